"""Static file server of the fixture upstreams (dev/fixtures.sh start).

Usage: python3 dev/fixtures-http.py PORT BIND DIRECTORY

Python's http.server, except that a file named `json` (pulp_python's upstream JSON API,
<project>/json) is served as application/json with PyPI's X-PyPI-Last-Serial header (its
"last_serial"): bandersnatch, which pulp_python syncs with, refuses a JSON API answer without
either (wrong type; "stale page" when the serial is missing or 0). Requests
with an absolute URL (the server doubling as an HTTP forward proxy) keep working as before: the
tree has links http:/127.0.0.1:PORT -> . for them.
"""

import functools
import json
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class FixtureHandler(SimpleHTTPRequestHandler):
    def guess_type(self, path):
        if str(path).endswith("/json"):
            return "application/json"
        return super().guess_type(path)

    def end_headers(self):
        path = self.translate_path(self.path)
        if path.endswith("/json"):
            try:
                with open(path, encoding="utf-8") as f:
                    serial = json.load(f).get("last_serial")
            except (OSError, ValueError) as err:
                self.log_error("no PyPI serial for %s: %s", path, err)
            else:
                if serial:
                    self.send_header("X-PyPI-Last-Serial", str(serial))
        super().end_headers()


def main() -> None:
    port, bind, directory = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    handler = functools.partial(FixtureHandler, directory=directory)
    with ThreadingHTTPServer((bind, port), handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
