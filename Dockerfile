# syntax=docker/dockerfile:1
# One image for every role of Pulp Manager; the command chooses it:
#   docker run IMAGE worker | api | exporter | migrate | config apply
# Build: docker build -t pulp-manager .

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: every dependency, TypeScript compiled to dist/ -----------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY activities ./activities
COPY api ./api
COPY cli ./cli
COPY config ./config
COPY db ./db
COPY domain ./domain
COPY metrics ./metrics
COPY pulp ./pulp
COPY temporal ./temporal
COPY workflows ./workflows
RUN npm run build

# --- prod-deps: runtime dependencies only (the Temporal core bridge ships prebuilt binaries) --
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime -----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# git: repo registration clones the repo-config repository; tini: PID 1 that forwards signals
# (graceful worker shutdown) and reaps the git child processes.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates git tini \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PULP_MANAGER_CONFIG_PATH=/etc/pulp_manager/config.ini \
    PULP_SYNC_CONFIG_PATH=/etc/pulp_manager/pulp_config.yml
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# The node image's unprivileged user (uid 1000); Kubernetes runAsNonRoot checks the numeric id.
USER 1000:1000
# api, exporter, worker's Temporal SDK metrics
EXPOSE 8080 9300 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/cli/main.js"]
CMD ["worker"]
