"""Reading ONNX bytes and tensors defensively (sizes checked before anything is allocated)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

MAX_FILE_BYTES = 2**31  # protobuf cannot hold more
MAX_ELEMENTS = 2**26  # 512 MiB in float64: per tensor and per folded matrix


# ---------------------------------------------------------------------- loading
def _load(model: Any):
    import onnx

    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, (bytes, bytearray, memoryview)):
        data = bytes(model)
    elif isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if not os.path.isfile(path):
            raise ValueError(f"No ONNX file at {path!r}.")
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise ValueError(
                f"{path!r} has {size} bytes, more than an ONNX model can hold (2 GiB)."
            )
        with open(path, "rb") as fh:
            data = fh.read()
    elif hasattr(model, "read"):
        data = model.read(MAX_FILE_BYTES + 1)
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("The file-like object must be opened in binary mode ('rb').")
        if len(data) > MAX_FILE_BYTES:
            raise ValueError("The stream holds more than an ONNX model can hold (2 GiB).")
        data = bytes(data)
    else:
        raise TypeError(
            "from_onnx expects a path, bytes, a binary file object or an onnx.ModelProto; "
            f"got {type(model).__name__}."
        )
    if not data:
        raise ValueError("The ONNX data is empty.")
    try:
        proto = onnx.ModelProto()
        proto.ParseFromString(data)
    except Exception as exc:  # protobuf raises DecodeError, RuntimeError, ... by version
        raise ValueError(f"The data could not be parsed as an ONNX model: {exc}") from None
    return proto


def _np_dtype(data_type: int) -> np.dtype:
    from onnx import TensorProto as T

    table = {
        T.FLOAT: np.float32, T.DOUBLE: np.float64, T.FLOAT16: np.float16,
        T.INT8: np.int8, T.INT16: np.int16, T.INT32: np.int32, T.INT64: np.int64,
        T.UINT8: np.uint8, T.UINT16: np.uint16, T.UINT32: np.uint32, T.UINT64: np.uint64,
        T.BOOL: np.bool_,
    }
    if data_type not in table:
        raise ValueError(f"unsupported tensor element type {data_type}")
    return np.dtype(table[data_type])


def _typed_field(tp: Any) -> Any:
    from onnx import TensorProto as T

    if tp.data_type == T.FLOAT:
        return tp.float_data
    if tp.data_type == T.DOUBLE:
        return tp.double_data
    if tp.data_type == T.INT64:
        return tp.int64_data
    if tp.data_type in (T.UINT32, T.UINT64):
        return tp.uint64_data
    return tp.int32_data


def tensor_to_array(tp: Any, where: str) -> np.ndarray:
    """Materialise a TensorProto after checking that its declared size matches its data."""
    from onnx import TensorProto, numpy_helper

    if tp.data_location == TensorProto.EXTERNAL or len(tp.external_data):
        raise ValueError(
            f"{where} is stored in an external data file; re-save the model with all tensors "
            "embedded (onnx.save_model(model, path, save_as_external_data=False))."
        )
    if tp.HasField("segment"):
        raise ValueError(f"{where} is a segmented tensor, which is not supported.")
    dims = [int(d) for d in tp.dims]
    if any(d < 0 for d in dims):
        raise ValueError(f"{where} declares a negative dimension {dims}.")
    numel = 1
    for d in dims:
        numel *= d
    try:
        dtype = _np_dtype(tp.data_type)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}.") from None
    if numel > MAX_ELEMENTS:
        raise ValueError(
            f"{where} declares {numel} elements (dims {dims}); more than the {MAX_ELEMENTS} "
            "a dense ReLU network layer can reasonably have. The file is damaged or hostile."
        )
    if tp.raw_data:
        if len(tp.raw_data) != numel * dtype.itemsize:
            raise ValueError(
                f"{where} declares dims {dims} ({numel * dtype.itemsize} bytes) but stores "
                f"{len(tp.raw_data)} bytes."
            )
    else:
        stored = len(_typed_field(tp))
        if stored != numel:
            raise ValueError(f"{where} declares dims {dims} ({numel} values) but stores {stored}.")
    try:
        arr = numpy_helper.to_array(tp)
    except Exception as exc:
        raise ValueError(f"{where} could not be read: {exc}") from None
    return np.asarray(arr)
