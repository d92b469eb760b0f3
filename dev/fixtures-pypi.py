"""Builds the python fixture upstream: wheels plus a PyPI-compatible tree that pulp_python syncs.

Usage: python3 dev/fixtures-pypi.py SPEC.json LEVEL OUT_DIR BASE_URL
  SPEC.json  list of {name, version, level (base|next), summary, requires_python}
  LEVEL      base: only "base" entries; next: base + next
  OUT_DIR    receives packages/*.whl, simple/ (PEP 503 HTML) and pypi/<project>/json (JSON API)
  BASE_URL   absolute URL OUT_DIR is served at (the JSON API carries absolute file URLs)

pulp_python syncs through bandersnatch: it reads <remote url>/pypi/<project>/json for the
releases and <remote url>/simple/<project>/ for the files, so both are written. The wheels are
built by hand (a wheel is a zip with a dist-info), with fixed timestamps: no build backend and
no network, and the same sources always give the same bytes.
"""

import base64
import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path

EPOCH_ZIP_DATE = (2024, 1, 1, 0, 0, 0)
UPLOAD_TIME = "2024-01-01T00:00:00"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(pkg: dict, out: Path) -> Path:
    dist = re.sub(r"[-.]+", "_", pkg["name"])
    module = dist.lower()
    version = pkg["version"]
    info = f"{dist}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f'"""{pkg["summary"]}"""\n\n__version__ = "{version}"\n'.encode(),
        f"{info}/METADATA": (
            "Metadata-Version: 2.1\n"
            f"Name: {pkg['name']}\n"
            f"Version: {version}\n"
            f"Summary: {pkg['summary']}\n"
            f"Requires-Python: {pkg['requires_python']}\n"
            "License: Apache-2.0\n"
        ).encode(),
        f"{info}/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: pulp-manager-fixtures\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ).encode(),
    }
    record = "".join(f"{path},{record_hash(data)},{len(data)}\n" for path, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    wheel = out / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in files.items():
            entry = zipfile.ZipInfo(path, EPOCH_ZIP_DATE)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(entry, data)
    return wheel


def main() -> None:
    spec_path, level, out_dir, base_url = sys.argv[1:5]
    base_url = base_url.rstrip("/")
    spec = json.loads(Path(spec_path).read_text())
    wanted = {"base"} if level == "base" else {"base", "next"}
    out = Path(out_dir)
    (out / "packages").mkdir(parents=True, exist_ok=True)
    projects: dict[str, list[dict]] = {}
    for pkg in spec:
        if pkg["level"] not in wanted:
            continue
        wheel = build_wheel(pkg, out / "packages")
        data = wheel.read_bytes()
        projects.setdefault(normalize(pkg["name"]), []).append(
            {
                "pkg": pkg,
                "file": {
                    "filename": wheel.name,
                    "packagetype": "bdist_wheel",
                    "python_version": "py3",
                    "requires_python": pkg["requires_python"],
                    "size": len(data),
                    "url": f"{base_url}/packages/{wheel.name}",
                    "digests": {
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "md5": hashlib.md5(data).hexdigest(),
                    },
                    "upload_time": UPLOAD_TIME,
                    "upload_time_iso_8601": UPLOAD_TIME + ".000000Z",
                    "yanked": False,
                    "yanked_reason": None,
                },
            }
        )
    simple = out / "simple"
    simple.mkdir(exist_ok=True)
    links = "".join(f'<a href="{p}/">{p}</a>\n' for p in sorted(projects))
    (simple / "index.html").write_text(
        f"<!DOCTYPE html>\n<html><head><title>Simple index</title></head><body>\n{links}</body></html>\n"
    )
    for project, entries in sorted(projects.items()):
        page = simple / project
        page.mkdir(exist_ok=True)
        anchors = "".join(
            f'<a href="../../packages/{e["file"]["filename"]}#sha256={e["file"]["digests"]["sha256"]}"'
            f' data-requires-python="{e["file"]["requires_python"].replace(">", "&gt;")}">'
            f'{e["file"]["filename"]}</a>\n'
            for e in entries
        )
        (page / "index.html").write_text(
            f"<!DOCTYPE html>\n<html><head><title>Links for {project}</title></head><body>\n"
            f"<h1>Links for {project}</h1>\n{anchors}</body></html>\n"
        )
        latest = entries[-1]["pkg"]
        releases = {e["pkg"]["version"]: [e["file"]] for e in entries}
        doc = {
            "info": {
                "name": latest["name"],
                "version": latest["version"],
                "summary": latest["summary"],
                "requires_python": latest["requires_python"],
                "license": "Apache-2.0",
                "metadata_version": "2.1",
                "author": "Pulp Manager Dev",
                "classifiers": [],
                "requires_dist": None,
                "yanked": False,
            },
            "last_serial": len(entries),
            "releases": releases,
            "urls": releases[latest["version"]],
        }
        api = out / "pypi" / project
        api.mkdir(parents=True, exist_ok=True)
        (api / "json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
