#!/usr/bin/env bash
# Fixture UPSTREAM repositories for the local stack: what Pulp syncs from in dev and e2e tests.
#
#   dev/fixtures.sh build        build packages + repos + repo-config git (only when sources changed)
#   dev/fixtures.sh start        build, then serve $FIXTURES_WWW on 127.0.0.1:$FIXTURES_HTTP_PORT and
#                                an OCI registry on 127.0.0.1:$FIXTURES_REGISTRY_PORT (pm/hello)
#   dev/fixtures.sh stop|status
#   dev/fixtures.sh add-version  publish pm-hello 1.1 (rpm, deb, deb-flat, python, container tag
#                                1.1) + file/hello-1.1.txt
#   dev/fixtures.sh reset        back to the initial content
#
# Sources live in dev/fixtures/ (spec files, deb control files, plain files, python package list,
# container layer files, repo-config JSON); everything generated lives in $FIXTURES_DIR. Packages
# are built with the real tools (rpmbuild, dpkg-deb), metadata with createrepo_c and
# apt-ftparchive, all pinned to SOURCE_DATE_EPOCH. Python wheels and the PyPI-compatible tree
# (simple + JSON API, what pulp_python syncs) come from dev/fixtures-pypi.py, no network.
# Container images are pushed with crane (go-containerregistry, built once from the Go module
# proxy) into `crane registry serve`, whose manifests live in memory: every start pushes them.
# The served tree is a symlink swapped atomically, so a running sync never sees half a repo.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FIXTURES_SRC="$DEV_DIR/fixtures"
FIXTURES_DIR="$PM_STATE/fixtures"
FIXTURES_WWW="$FIXTURES_DIR/www"                      # symlink -> gen/<level>.XXXX
FIXTURES_REPO_CONFIG_GIT="$FIXTURES_DIR/repo-config.git"
FIXTURES_URL="http://$PM_HOST:$FIXTURES_HTTP_PORT"
FIXTURES_EPOCH=1704067200                               # 2024-01-01: reproducible packages/metadata
# apt-ftparchive ignores SOURCE_DATE_EPOCH for Release's Date, but any field can be overridden.
FIXTURES_RELEASE_DATE="$(LC_ALL=C date -u -d "@$FIXTURES_EPOCH" '+%a, %d %b %Y %H:%M:%S UTC')"
FIXTURES_PYTHON="${FIXTURES_PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}"
# Paths below $FIXTURES_URL that each prove one repo is served.
FIXTURES_PROBES=(rpm/repodata/repomd.xml deb/dists/stable/Release deb-flat/Release file/PULP_MANIFEST iso/PULP_MANIFEST
  python/simple/pm-hello/ python/pypi/pm-hello/json)
FIXTURES_REGISTRY="$PM_HOST:$FIXTURES_REGISTRY_PORT"
FIXTURES_IMAGE="pm/hello"                               # upstream_name of the container fixture
CRANE_VERSION=v0.22.1                                   # github.com/google/go-containerregistry
CRANE_HOME="$PM_CACHE/crane-$CRANE_VERSION"
CRANE="$CRANE_HOME/bin/crane"
FLAT_DEBS=(pm-hello pm-tools)                           # the flat repo carries only these

mkdir -p "$FIXTURES_DIR"

ensure_tools() {
  local missing=() cmd pkg
  for pair in rpmbuild:rpm createrepo_c:createrepo-c apt-ftparchive:apt-utils dpkg-deb:dpkg git:git flock:util-linux; do
    cmd="${pair%%:*}"; pkg="${pair#*:}"
    command -v "$cmd" >/dev/null || missing+=("$pkg")
  done
  [[ -x "$CRANE" ]] || timed "crane $CRANE_VERSION (go install)" install_crane
  ((${#missing[@]} == 0)) && return 0
  # Another stack script may be running apt already: wait for it instead of failing on the lock.
  while pgrep -x apt-get >/dev/null || pgrep -x dpkg >/dev/null; do log "waiting for a running apt-get/dpkg"; sleep 3; done
  apt_install "${missing[@]}"
}

install_crane() {
  go_install crane "$CRANE_HOME/bin" "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION"
}

# Hash of everything that shapes the output: sources, this script, the port baked into URLs.
source_hash() {
  {
    (cd "$FIXTURES_SRC" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    sha256sum < "${BASH_SOURCE[0]}"
    sha256sum < "$DEV_DIR/fixtures-pypi.py"
    echo "port=$FIXTURES_HTTP_PORT registry=$FIXTURES_REGISTRY_PORT"
  } | sha256sum | cut -c1-16
}

current_level() { cat "$FIXTURES_DIR/level" 2>/dev/null || echo base; }

# --- packages -------------------------------------------------------------------------------

build_rpms() { # SRC_DIR OUT_DIR
  local src="$1" out="$2" top; top="$(mktemp -d)"
  mkdir -p "$out"
  for spec in "$src"/*.spec; do
    # --nodeps: there is no rpm database on Debian to check BuildRequires against.
    SOURCE_DATE_EPOCH=$FIXTURES_EPOCH rpmbuild -bb --quiet --nodeps \
      --define "_topdir $top" --define "_buildhost pm-fixtures" \
      --define "use_source_date_epoch_as_buildtime 1" --define "clamp_mtime_to_source_date_epoch 1" \
      --define "_build_id_links none" "$spec" >"$top/build.log" 2>&1 \
      || { cat "$top/build.log" >&2; die "rpmbuild failed for $spec"; }
  done
  find "$top/RPMS" -name '*.rpm' -exec mv -t "$out" {} +
  rm -rf "$top"
}

build_debs() { # SRC_DIR OUT_DIR
  local src="$1" out="$2" tmp pkg ver arch root; tmp="$(mktemp -d)"
  mkdir -p "$out"
  for ctl in "$src"/*.control; do
    pkg="$(sed -n 's/^Package: //p' "$ctl")"; ver="$(sed -n 's/^Version: //p' "$ctl")"
    arch="$(sed -n 's/^Architecture: //p' "$ctl")"
    root="$tmp/${pkg}_$ver"
    mkdir -p "$root/DEBIAN" "$root/usr/share/doc/$pkg"
    cp "$ctl" "$root/DEBIAN/control"
    echo "$pkg $ver" > "$root/usr/share/doc/$pkg/README"
    find "$root" -type d -exec chmod 0755 {} + ; find "$root" -type f -exec chmod 0644 {} +
    SOURCE_DATE_EPOCH=$FIXTURES_EPOCH dpkg-deb --root-owner-group -Zxz --build "$root" \
      "$out/${pkg}_${ver}_${arch}.deb" >/dev/null
  done
  rm -rf "$tmp"
}

build_layers() { # SRC_DIR OUT_DIR: one reproducible layer tarball per level (base.tar, next.tar)
  local src="$1" out="$2" level
  mkdir -p "$out"
  for level in base next; do
    tar --sort=name --mtime="@$FIXTURES_EPOCH" --owner=0 --group=0 --numeric-owner --mode=a+rX,go-w \
      -C "$src/$level" -cf "$out/$level.tar" .
  done
}

build_packages() {
  local tmp="$FIXTURES_DIR/pkgs.tmp"
  rm -rf "$tmp"
  build_rpms "$FIXTURES_SRC/rpm" "$tmp/rpm"
  build_rpms "$FIXTURES_SRC/rpm-next" "$tmp/rpm-next"
  build_debs "$FIXTURES_SRC/deb" "$tmp/deb"
  build_debs "$FIXTURES_SRC/deb-next" "$tmp/deb-next"
  build_layers "$FIXTURES_SRC/container" "$tmp/container"
  rm -rf "$FIXTURES_DIR/pkgs"; mv "$tmp" "$FIXTURES_DIR/pkgs"
}

# --- repositories ---------------------------------------------------------------------------

write_pulp_manifest() { # DIR: PULP_MANIFEST lines "relative_path,sha256,size" (pulp_file format)
  (cd "$1" && find . -type f ! -name PULP_MANIFEST -printf '%P\n' | LC_ALL=C sort | while read -r f; do
     printf '%s,%s,%s\n' "$f" "$(sha256sum "$f" | cut -d' ' -f1)" "$(stat -c %s "$f")"
   done > PULP_MANIFEST)
}

publish_rpm() { # DIR LEVEL
  local d="$1/rpm" pkgs="$FIXTURES_DIR/pkgs"
  mkdir -p "$d/Packages"
  cp "$pkgs"/rpm/*.rpm "$d/Packages/"
  [[ "$2" == next ]] && cp "$pkgs"/rpm-next/*.rpm "$d/Packages/"
  # primary.xml records each file's mtime: pin it so the same content gives the same metadata.
  touch -d "@$FIXTURES_EPOCH" "$d"/Packages/*.rpm
  createrepo_c --quiet --checksum sha256 --general-compress-type gz --no-database \
    --revision "$FIXTURES_EPOCH" --set-timestamp-to-revision "$d" >/dev/null
}

deb_files() { # LEVEL: .deb paths of the level
  local level="$1"
  local f; for f in "$FIXTURES_DIR"/pkgs/deb/*.deb; do echo "$f"; done
  [[ "$level" == next ]] && for f in "$FIXTURES_DIR"/pkgs/deb-next/*.deb; do echo "$f"; done
  true
}

publish_deb() { # DIR LEVEL: structured repo, deb http://host/deb/ stable main
  local d="$1/deb" f pkg
  while read -r f; do
    pkg="$(basename "$f")"; pkg="${pkg%%_*}"
    mkdir -p "$d/pool/main/${pkg:0:1}/$pkg"; cp "$f" "$d/pool/main/${pkg:0:1}/$pkg/"
  done < <(deb_files "$2")
  mkdir -p "$d/dists/stable/main/binary-amd64"
  (cd "$d" && apt-ftparchive packages pool/main > dists/stable/main/binary-amd64/Packages)
  gzip -9nk "$d/dists/stable/main/binary-amd64/Packages"
  # Architectures must not list "all": pulp_deb would then drop the arch-all packages from
  # binary-amd64 (non-hybrid format). Release carries MD5Sum/SHA1/SHA256/SHA512 per index.
  (cd "$d/dists/stable" && apt-ftparchive release -o APT::FTPArchive::Release::Date="$FIXTURES_RELEASE_DATE" \
    -o APT::FTPArchive::Release::Origin="Pulp Manager Fixtures" \
    -o APT::FTPArchive::Release::Label="pm-fixtures" \
    -o APT::FTPArchive::Release::Suite=stable -o APT::FTPArchive::Release::Codename=stable \
    -o APT::FTPArchive::Release::Architectures=amd64 -o APT::FTPArchive::Release::Components=main \
    -o APT::FTPArchive::Release::Description="Pulp Manager fixture upstream (structured)" \
    . > ../Release.tmp && mv ../Release.tmp Release)
}

publish_deb_flat() { # DIR LEVEL: flat repo, deb http://host/deb-flat/ ./ (pulp_deb distribution "/")
  local d="$1/deb-flat" f name keep
  mkdir -p "$d"
  while read -r f; do
    name="$(basename "$f")"; name="${name%%_*}"
    for keep in "${FLAT_DEBS[@]}"; do [[ "$name" == "$keep" ]] && cp "$f" "$d/"; done
  done < <(deb_files "$2")
  (cd "$d" && apt-ftparchive packages . > Packages && gzip -9nk Packages)
  (cd "$d" && apt-ftparchive release -o APT::FTPArchive::Release::Date="$FIXTURES_RELEASE_DATE" \
    -o APT::FTPArchive::Release::Origin="Pulp Manager Fixtures" \
    -o APT::FTPArchive::Release::Label="pm-fixtures-flat" \
    -o APT::FTPArchive::Release::Architectures=amd64 \
    . > ../Release.flat.tmp && mv ../Release.flat.tmp Release)
}

publish_python() { # DIR LEVEL: PyPI-compatible tree, remote url http://host/python/
  "$FIXTURES_PYTHON" "$DEV_DIR/fixtures-pypi.py" "$FIXTURES_SRC/python/packages.json" "$2" "$1/python" "$FIXTURES_URL/python" \
    || die "building the python fixture upstream failed"
}

publish_files() { # DIR LEVEL
  mkdir -p "$1/file" "$1/iso"
  cp -r "$FIXTURES_SRC/file/." "$1/file/"
  [[ "$2" == next ]] && cp -r "$FIXTURES_SRC/file-next/." "$1/file/"
  cp -r "$FIXTURES_SRC/iso/." "$1/iso/"
  write_pulp_manifest "$1/file"; write_pulp_manifest "$1/iso"
}

# publish LEVEL: assemble a complete tree for LEVEL (base|next) and swap it in atomically.
publish() {
  local level="$1" gen
  mkdir -p "$FIXTURES_DIR/gen"
  gen="$(mktemp -d "$FIXTURES_DIR/gen/$level.XXXX")"; chmod 0755 "$gen"
  publish_rpm "$gen" "$level"
  publish_deb "$gen" "$level"
  publish_deb_flat "$gen" "$level"
  publish_files "$gen" "$level"
  publish_python "$gen" "$level"
  # The server doubles as an HTTP forward proxy for remotes with proxy=$FIXTURES_URL: a proxied
  # request arrives as "GET http://127.0.0.1:PORT/x", which http.server maps to
  # <www>/http:/127.0.0.1:PORT/x, so these links point back at the root (and the log shows
  # the absolute URL, i.e. that the proxy was used).
  mkdir -p "$gen/http:"
  ln -s .. "$gen/http:/127.0.0.1:$FIXTURES_HTTP_PORT"
  ln -s .. "$gen/http:/localhost:$FIXTURES_HTTP_PORT"
  printf '{"level": "%s", "source_hash": "%s"}\n' "$level" "$(source_hash)" > "$gen/fixtures.json"
  [[ -L "$FIXTURES_WWW" || ! -e "$FIXTURES_WWW" ]] || rm -rf "$FIXTURES_WWW"
  ln -sfn "gen/$(basename "$gen")" "$FIXTURES_WWW.new" && mv -Tf "$FIXTURES_WWW.new" "$FIXTURES_WWW"
  echo "$level" > "$FIXTURES_DIR/level"
  local old; for old in "$FIXTURES_DIR"/gen/*; do [[ "$old" == "$gen" ]] || rm -rf "$old"; done
  log "fixtures: published level '$level' in $FIXTURES_WWW"
}

# --- repo-config git ------------------------------------------------------------------------

# Bare repo whose repo_config/ (the product's [pulp] git_repo_config_dir) mirrors
# dev/fixtures/repo-config; a source change becomes a new commit on main.
build_repo_config() {
  local bare="$FIXTURES_REPO_CONFIG_GIT" work; work="$(mktemp -d)"
  local git=(git -c user.name="Pulp Manager Dev" -c user.email=dev@pulpmanager.test -c init.defaultBranch=main)
  [[ -d "$bare" ]] || "${git[@]}" init -q --bare "$bare"
  if git -C "$bare" rev-parse -q --verify refs/heads/main >/dev/null; then
    "${git[@]}" clone -q "$bare" "$work"
  else
    "${git[@]}" init -q "$work"
  fi
  rm -rf "$work/repo_config"; mkdir -p "$work/repo_config"
  cp -r "$FIXTURES_SRC/repo-config/." "$work/repo_config/"
  # Sources say :18800 / :18801 (stack.env); follow the ports if they ever change.
  find "$work/repo_config" -name '*.json' -exec sed -i -e "s/:18800\\b/:$FIXTURES_HTTP_PORT/g" -e "s/:18801\\b/:$FIXTURES_REGISTRY_PORT/g" {} +
  "${git[@]}" -C "$work" add -A
  if ! git -C "$work" rev-parse -q --verify HEAD >/dev/null || ! git -C "$work" diff --cached --quiet; then
    "${git[@]}" -C "$work" commit -q -m "repo config fixtures from dev/fixtures/repo-config ($(source_hash))"
    "${git[@]}" -C "$work" push -q "$bare" HEAD:refs/heads/main
    log "fixtures: repo-config committed $(git -C "$bare" rev-parse --short main) in $bare"
  fi
  rm -rf "$work"
}

# --- commands -------------------------------------------------------------------------------

with_lock() { exec 9>"$FIXTURES_DIR/.lock"; flock 9; }
# Long-running children must not inherit fd 9: they would hold the lock forever.
release_lock() { exec 9>&-; }

cmd_build() {
  with_lock
  local hash; hash="$(source_hash)"
  if [[ "$(cat "$FIXTURES_DIR/stamp" 2>/dev/null)" == "$hash" && -e "$FIXTURES_WWW/fixtures.json" \
        && -d "$FIXTURES_DIR/pkgs" && -d "$FIXTURES_REPO_CONFIG_GIT" ]]; then
    log "fixtures up to date ($hash, level $(current_level))"; return 0
  fi
  local t0=$SECONDS
  ensure_tools
  log "fixtures: building ($hash)"
  rm -f "$FIXTURES_DIR/stamp"
  build_packages
  publish "$(current_level)"
  build_repo_config
  echo "$hash" > "$FIXTURES_DIR/stamp"
  log "fixtures built in $((SECONDS - t0))s"
}

probe() { curl -fsS -o /dev/null --max-time 5 "$FIXTURES_URL/$1" 2>/dev/null; }

# push_images LEVEL: pm/hello:1.0 (one layer), plus 1.1 (a second layer) at level next;
# latest follows the newest. Same layers and config every time, so the digests are stable.
push_images() {
  local level="$1" layers="$FIXTURES_DIR/pkgs/container" ref="$FIXTURES_REGISTRY/$FIXTURES_IMAGE"
  "$CRANE" append --insecure --oci-empty-base -f "$layers/base.tar" -t "$ref:1.0" >/dev/null 2>>"$PM_LOGS/fixtures-registry.log" \
    || die "crane could not push $ref:1.0 (log: $PM_LOGS/fixtures-registry.log)"
  if [[ "$level" == next ]]; then
    "$CRANE" append --insecure -b "$ref:1.0" -f "$layers/next.tar" -t "$ref:1.1" >/dev/null 2>>"$PM_LOGS/fixtures-registry.log" \
      || die "crane could not push $ref:1.1 (log: $PM_LOGS/fixtures-registry.log)"
    "$CRANE" tag --insecure "$ref:1.1" latest 2>>"$PM_LOGS/fixtures-registry.log"
  else
    "$CRANE" delete --insecure "$ref:1.1" 2>/dev/null || true
    "$CRANE" tag --insecure "$ref:1.0" latest 2>>"$PM_LOGS/fixtures-registry.log"
  fi
  log "fixtures: pushed $ref ($("$CRANE" ls --insecure "$ref" | tr '\n' ' '))"
}

start_registry() {
  [[ -x "$CRANE" ]] || timed "crane $CRANE_VERSION (go install)" install_crane
  if ! pid_alive fixtures-registry && port_open "$FIXTURES_REGISTRY_PORT"; then
    die "$FIXTURES_REGISTRY is taken by a process not started by dev/fixtures.sh"
  fi
  mkdir -p "$FIXTURES_DIR/registry-blobs"
  start_bg fixtures-registry "$CRANE" registry serve --address "$FIXTURES_REGISTRY" --disk "$FIXTURES_DIR/registry-blobs"
  wait_http "http://$FIXTURES_REGISTRY/v2/" fixtures-registry 30
  push_images "$(current_level)"
}

cmd_start() {
  cmd_build
  release_lock
  if ! pid_alive fixtures-http && port_open "$FIXTURES_HTTP_PORT"; then
    die "127.0.0.1:$FIXTURES_HTTP_PORT is taken by a process not started by dev/fixtures.sh"
  fi
  # A server of an older checkout (plain http.server) would serve the python JSON API untyped.
  if pid_alive fixtures-http && ! tr '\0' ' ' <"/proc/$(cat "$PM_RUN/fixtures-http.pid")/cmdline" | grep -q "$DEV_DIR/fixtures-http.py"; then
    log "fixtures-http runs an older server: restarting it"
    stop_bg fixtures-http
  fi
  start_bg fixtures-http "$FIXTURES_PYTHON" "$DEV_DIR/fixtures-http.py" "$FIXTURES_HTTP_PORT" "$PM_HOST" "$FIXTURES_WWW"
  wait_http "$FIXTURES_URL/fixtures.json" fixtures-http 30
  start_registry
  log "fixtures served at $FIXTURES_URL/{rpm,deb,deb-flat,file,iso,python}/ and registry $FIXTURES_REGISTRY/$FIXTURES_IMAGE (repo config: $FIXTURES_REPO_CONFIG_GIT)"
}

cmd_stop() { stop_bg fixtures-http; stop_bg fixtures-registry; }

cmd_status() {
  local ok=0 p
  if pid_alive fixtures-http; then echo "fixtures-http: running (pid $(cat "$PM_RUN/fixtures-http.pid")) at $FIXTURES_URL"
  else echo "fixtures-http: not running"; ok=1; fi
  for p in "${FIXTURES_PROBES[@]}"; do
    if probe "$p"; then echo "  ok   $FIXTURES_URL/$p"; else echo "  FAIL $FIXTURES_URL/$p"; ok=1; fi
  done
  if pid_alive fixtures-registry; then echo "fixtures-registry: running (pid $(cat "$PM_RUN/fixtures-registry.pid")) at http://$FIXTURES_REGISTRY/v2/"
  else echo "fixtures-registry: not running"; ok=1; fi
  local tag; for tag in 1.0 latest; do
    if [[ -x "$CRANE" ]] && "$CRANE" digest --insecure "$FIXTURES_REGISTRY/$FIXTURES_IMAGE:$tag" >/dev/null 2>&1; then
      echo "  ok   $FIXTURES_REGISTRY/$FIXTURES_IMAGE:$tag"
    else echo "  FAIL $FIXTURES_REGISTRY/$FIXTURES_IMAGE:$tag"; ok=1; fi
  done
  echo "level: $(current_level)  stamp: $(cat "$FIXTURES_DIR/stamp" 2>/dev/null || echo none)  repo config: $FIXTURES_REPO_CONFIG_GIT"
  return $ok
}

cmd_set_level() { # LEVEL
  cmd_build
  with_lock
  publish "$1"
  if pid_alive fixtures-registry; then push_images "$1"; fi
}

case "${1:-}" in
  build) cmd_build ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  add-version) cmd_set_level next ;;
  reset) cmd_set_level base ;;
  *) echo "usage: $0 build|start|stop|status|add-version|reset" >&2; exit 2 ;;
esac
