#!/usr/bin/env python3
"""Builds the small OCI test images for the storage tests from Debian's busybox-static.

Usage: make-images.py <out-dir> [--bench]
Writes one OCI image layout per image under <out-dir>/<name> (tag "latest") and
<out-dir>/images.env with the digests the tests check against:
  busybox  two gzip layers: busybox + a symlink + a hardlink + /etc files (layer 1), a whiteout
           of /etc/motd, an opaque /var/cache and a home dir owned by uid 1000 (layer 2);
           USER app (uid 1000), Env, Entrypoint, Cmd, WorkingDir, StopSignal, Volumes, Labels
  multi    an OCI index: linux/amd64 -> the busybox manifest, linux/arm64 -> a tiny other one
  corrupt  one small layer of its own; the fixture corrupts its blob in the registry
  fdworkdir  the busybox layers, run as root, WorkingDir /proc/self/fd/3: an image that tries
           to start its process in a directory the runtime holds (CVE-2024-21626)
  hostile-{zero,dotdot,host,fifo,device}
           one layer each whose /etc/passwd is hostile to whoever reads it on the host: a
           symlink to /dev/zero, a ../ symlink and an absolute one to <out-dir>/host-passwd (a
           host file with user "marker", uid 4242), a FIFO, a character device 1:5 (/dev/zero)
  bench    (with --bench) ~50 MB in three gzip layers of half-random data, for hack/bench/pull
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

BUSYBOX = "/bin/busybox"
MTIME = 1700000000


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def tar_layer(entries):
    """entries: list of (name, kind, extra) -> (uncompressed bytes, gzip bytes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e["name"])
            info.mtime = MTIME
            info.uid = e.get("uid", 0)
            info.gid = e.get("gid", 0)
            info.mode = e.get("mode", 0o644)
            data = None
            kind = e["kind"]
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = e.get("mode", 0o755)
            elif kind == "file":
                data = e.get("data", b"")
                info.size = len(data)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = e["target"]
                info.mode = 0o777
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = e["target"]
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            elif kind == "chardev":
                info.type = tarfile.CHRTYPE
                info.devmajor, info.devminor = e["dev"]
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    raw = buf.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as f:
        f.write(raw)
    return raw, gz.getvalue()


class Layout:
    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)

    def blob(self, data):
        d = sha(data)
        with open(os.path.join(self.path, "blobs", "sha256", d[7:]), "wb") as f:
            f.write(data)
        return {"digest": d, "size": len(data)}

    def index(self, manifest_desc):
        desc = dict(manifest_desc)
        desc["annotations"] = {"org.opencontainers.image.ref.name": "latest"}
        with open(os.path.join(self.path, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [desc]}, f)


def image(layout, layers, config_extra, arch="amd64"):
    """Writes layers, config and manifest into layout; returns the manifest descriptor."""
    layer_descs = []
    diff_ids = []
    for raw, gz in layers:
        d = layout.blob(gz)
        d["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
        layer_descs.append(d)
        diff_ids.append(sha(raw))
    config = {
        "created": "2023-11-14T22:13:20Z",
        "architecture": arch,
        "os": "linux",
        "config": config_extra,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    cdesc = layout.blob(json.dumps(config, sort_keys=True).encode())
    cdesc["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": cdesc,
        "layers": layer_descs,
    }
    mdesc = layout.blob(json.dumps(manifest, sort_keys=True).encode())
    mdesc["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    mdesc["platform"] = {"os": "linux", "architecture": arch}
    return mdesc, cdesc, layer_descs, diff_ids


def busybox_layers():
    with open(BUSYBOX, "rb") as f:
        busybox = f.read()
    passwd = b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
    group = b"root:x:0:\napp:x:1000:\n"
    base = tar_layer([
        {"name": "bin", "kind": "dir"},
        {"name": "bin/busybox", "kind": "file", "data": busybox, "mode": 0o755},
        {"name": "bin/sh", "kind": "symlink", "target": "busybox"},
        {"name": "bin/ls", "kind": "hardlink", "target": "bin/busybox"},
        {"name": "etc", "kind": "dir"},
        {"name": "etc/passwd", "kind": "file", "data": passwd},
        {"name": "etc/group", "kind": "file", "data": group},
        {"name": "etc/motd", "kind": "file", "data": b"removed by layer 2\n"},
        {"name": "var", "kind": "dir"},
        {"name": "var/cache", "kind": "dir"},
        {"name": "var/cache/old", "kind": "file", "data": b"hidden by the opaque dir\n"},
        {"name": "tmp", "kind": "dir", "mode": 0o1777},
    ])
    top = tar_layer([
        {"name": "etc", "kind": "dir"},
        {"name": "etc/.wh.motd", "kind": "file"},
        {"name": "var", "kind": "dir"},
        {"name": "var/cache", "kind": "dir"},
        {"name": "var/cache/.wh..wh..opq", "kind": "file"},
        {"name": "var/cache/new", "kind": "file", "data": b"layer 2\n"},
        {"name": "home", "kind": "dir"},
        {"name": "home/app", "kind": "dir", "uid": 1000, "gid": 1000, "mode": 0o750},
        {"name": "home/app/hello", "kind": "file", "data": b"hello\n", "uid": 1000, "gid": 1000},
    ])
    return [base, top]


BUSYBOX_CONFIG = {
    "User": "app",
    "Env": ["PATH=/bin", "GREETING=hello"],
    "Entrypoint": ["/bin/sh", "-c"],
    "Cmd": ["echo $GREETING"],
    "WorkingDir": "/home/app",
    "StopSignal": "SIGQUIT",
    "Volumes": {"/data": {}},
    "Labels": {"org.cricket.test": "busybox"},
}


def hostile_images(out, env):
    """Images whose /etc/passwd must not be read through a host path (issue 13 item 4)."""
    host_passwd = os.path.join(os.path.abspath(out), "host-passwd")
    with open(host_passwd, "w") as f:
        f.write("marker:x:4242:4242::/:/bin/sh\n")
    env["HOSTILE_HOST_PASSWD"] = host_passwd
    passwds = {
        "zero": {"kind": "symlink", "target": "/dev/zero"},
        "dotdot": {"kind": "symlink", "target": "../" * 32 + host_passwd.lstrip("/")},
        "host": {"kind": "symlink", "target": host_passwd},
        "fifo": {"kind": "fifo"},
        "device": {"kind": "chardev", "dev": (1, 5)},
    }
    with open(BUSYBOX, "rb") as f:
        busybox = f.read()
    for name, passwd in passwds.items():
        layout = Layout(os.path.join(out, "hostile-" + name))
        entries = [
            {"name": "etc", "kind": "dir"},
            dict(passwd, name="etc/passwd"),
            {"name": "etc/group", "kind": "file", "data": b"root:x:0:\n"},
        ]
        if name in ("host", "dotdot"):
            # Something to run, so that a runtime fooled into uid 4242 gets as far as creating.
            entries += [{"name": "bin", "kind": "dir"},
                        {"name": "bin/busybox", "kind": "file", "data": busybox, "mode": 0o755}]
        layer = tar_layer(entries)
        mdesc, _, _, _ = image(layout, [layer], {"Cmd": ["/bin/true"]})
        layout.index(mdesc)


def main():
    out = sys.argv[1]
    env = {}

    bb = Layout(os.path.join(out, "busybox"))
    mdesc, cdesc, layers, diff_ids = image(bb, busybox_layers(), BUSYBOX_CONFIG)
    bb.index(mdesc)
    env["BUSYBOX_MANIFEST"] = mdesc["digest"]
    env["BUSYBOX_CONFIG"] = cdesc["digest"]
    env["BUSYBOX_LAYERS"] = ",".join(l["digest"] for l in layers)
    env["BUSYBOX_SIZE"] = str(mdesc["size"] + cdesc["size"] + sum(l["size"] for l in layers))

    multi = Layout(os.path.join(out, "multi"))
    amd64, _, _, _ = image(multi, busybox_layers(), BUSYBOX_CONFIG)
    arm64, _, _, _ = image(multi, [tar_layer([{"name": "arm64", "kind": "file", "data": b"arm64\n"}])],
                           {"Cmd": ["/arm64"]}, arch="arm64")
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [arm64, amd64],
    }
    idesc = multi.blob(json.dumps(index, sort_keys=True).encode())
    idesc["mediaType"] = "application/vnd.oci.image.index.v1+json"
    multi.index(idesc)
    env["MULTI_INDEX"] = idesc["digest"]
    env["MULTI_AMD64_MANIFEST"] = amd64["digest"]

    bad = Layout(os.path.join(out, "corrupt"))
    mdesc, cdesc, layers, _ = image(bad, [tar_layer([{"name": "unique", "kind": "file",
                                                       "data": os.urandom(4096).hex().encode()}])],
                                    {"Cmd": ["/unique"]})
    bad.index(mdesc)
    env["CORRUPT_MANIFEST"] = mdesc["digest"]
    env["CORRUPT_LAYER"] = layers[0]["digest"]

    fdwd = Layout(os.path.join(out, "fdworkdir"))
    mdesc, _, _, _ = image(fdwd, busybox_layers(), {
        "Env": ["PATH=/bin"], "Cmd": ["/bin/ls", "../../../../../../../.."],
        "WorkingDir": "/proc/self/fd/3"})
    fdwd.index(mdesc)

    if "--bench" in sys.argv[2:]:
        bench = Layout(os.path.join(out, "bench"))
        layers = []
        for i in range(3):
            files = [{"name": f"data{i}", "kind": "dir"}]
            for j in range(32):
                chunk = os.urandom(256 * 1024) + bytes(256 * 1024)
                files.append({"name": f"data{i}/blob{j}", "kind": "file", "data": chunk * 2})
            layers.append(tar_layer(files))
        mdesc, _, _, _ = image(bench, layers, {"Cmd": ["/bin/true"]})
        bench.index(mdesc)

    hostile_images(out, env)

    with open(os.path.join(out, "images.env"), "w") as f:
        for k, v in sorted(env.items()):
            f.write(f"{k}={v}\n")


if __name__ == "__main__":
    main()
