"""A network's weights written as an ONNX model with ``onnx.helper``: no session, no cache, no
PyTorch. srcnn.engine builds its ONNX Runtime sessions on it; srcnn.export writes it to a file.

:func:`network_model` maps a srcnn.models.Network to an ``onnx.ModelProto`` (opset
:data:`OPSET`): input ``x`` (N, 1, H, W) float32, the luma on a 0..1 scale, output ``y``; N, H
and W dynamic.
"""

from __future__ import annotations

import itertools

import numpy as np

from .models import Network

OPSET = 17          # ONNX operator set of the graphs
IR_VERSION = 8      # the ONNX IR version that goes with it (what ONNX Runtime reads)
_INT64_MAX = np.iinfo(np.int64).max


class _Graph:
    """A small helper for writing an ONNX graph: nodes, constants and fresh names."""

    def __init__(self):
        self.nodes, self.inits, self._n = [], [], itertools.count()

    def name(self, stem: str) -> str:
        return f"{stem}_{next(self._n)}"

    def const(self, value, stem: str = "c") -> str:
        from onnx import numpy_helper
        name = self.name(stem)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], stem: str | None = None, output: str | None = None, **attrs) -> str:
        from onnx import helper
        out = output or self.name(stem or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def slice(self, x: str, starts, ends, axes, steps=None) -> str:
        inputs = [x, self.const(np.array(starts, np.int64)), self.const(np.array(ends, np.int64)),
                  self.const(np.array(axes, np.int64))]
        if steps is not None:
            inputs.append(self.const(np.array(steps, np.int64)))
        return self.op("Slice", inputs)

    def mirror_pad(self, x: str, r: int, axis: int) -> str:
        """``x`` padded by ``r`` on both sides of ``axis``, mirrored with the edge pixel repeated
        (``numpy.pad(mode="symmetric")``, period 2n: any length n >= 1 works): one Gather of the
        indices ``mirror(-r .. n + r - 1)`` computed in the graph."""
        n = self.op("Squeeze", [self.op("Shape", [x], start=axis, end=axis + 1), self.const(np.array([0], np.int64))])
        start = self.const(np.array(-r, np.int64))
        end = self.op("Add", [n, self.const(np.array(r, np.int64))])
        idx = self.op("Range", [start, end, self.const(np.array(1, np.int64))])
        two_n = self.op("Mul", [n, self.const(np.array(2, np.int64))])
        m = self.op("Mod", [idx, two_n], fmod=0)                      # 0 .. 2n-1 (sign of the divisor)
        back = self.op("Sub", [self.op("Sub", [two_n, self.const(np.array(1, np.int64))]), m])
        where = self.op("Where", [self.op("Less", [m, n]), m, back])
        return self.op("Gather", [x, where], axis=axis)


def network_model(net: Network, same_size: bool = False):
    """The ``onnx.ModelProto`` of ``net``: input ``x`` (N, 1, H, W) float32, output ``y``.

    ``same_size=False`` (the engine): valid convolutions, (N, 1, H, W) -> (N, 1, H - 2r, W - 2r),
    as the network. ``same_size=True`` (srcnn.export's file): the input is first mirror-padded by
    ``r`` inside the graph (edge pixel repeated, as srcnn.tiling pads), so the output has the
    input's size; any H, W >= 1.

    The last convolution is written in its row form: ``conv3`` (n2 -> 1, f3 x f3, a
    cross-correlation) becomes a 1 x f3 convolution to f3 planes, one per kernel row dy,
    ``u[dy] = b3 [dy = 0] + sum_c sum_dx w3[c, dy, dx] h[c](., . + dx)``, and the sum of those
    planes shifted by whole rows, ``out[y, x] = sum_dy u[dy][y + dy, x]`` (added in order dy = 0,
    1, ...; then, for the residual kind, the input's centre). ONNX Runtime's CPU convolutions
    work on blocks of 8 output channels (AVX2), so a 1-channel f3 x f3 layer costs as much as an
    8-channel one; in the row form the f3 planes fill those channels: 1280 multiply-adds per
    pixel for 800 useful, against 6400 for the plain layer. What it saves, layer by layer:
    docs/speed.md ("What each lever contributes", "Per layer").
    """
    from onnx import TensorProto, helper
    w, r, f3 = net.weights, net.radius, net.f3
    g = _Graph()
    x = "x"
    if same_size and r > 0:
        x = g.mirror_pad(g.mirror_pad(x, r, 2), r, 3)
    h = g.op("Relu", [g.op("Conv", [x, g.const(w["conv1.weight"], "w1"), g.const(w["conv1.bias"], "b1")],
                           kernel_shape=[net.f1, net.f1])])
    h = g.op("Relu", [g.op("Conv", [h, g.const(w["conv2.weight"], "w2"), g.const(w["conv2.bias"], "b2")],
                           kernel_shape=[net.f2, net.f2])])
    rows_w = np.ascontiguousarray(w["conv3.weight"][0].transpose(1, 0, 2)[:, :, None, :])   # [dy, c, 1, dx]
    rows_b = np.zeros(f3, np.float32)
    rows_b[0] = w["conv3.bias"][0]
    u = g.op("Conv", [h, g.const(rows_w, "w3rows"), g.const(rows_b, "b3rows")], kernel_shape=[1, f3])
    out = None
    for dy in range(f3):
        end = -(f3 - 1 - dy) if dy < f3 - 1 else _INT64_MAX
        term = g.slice(u, [dy, dy], [dy + 1, end], [1, 2])
        out = term if out is None else g.op("Add", [out, term])
    if net.kind == "residual":
        centre = g.slice(x, [r, r], [-r, -r], [2, 3]) if r > 0 else x
        out = g.op("Add", [out, centre])
    g.nodes.append(helper.make_node("Identity", [out], ["y"]))
    graph = helper.make_graph(
        g.nodes, f"{net.kind}-x{net.scale}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1, "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1, "oh", "ow"])], g.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                             producer_name="srcnn-studio", ir_version=IR_VERSION)


def network_bytes(net: Network, same_size: bool = False) -> bytes:
    """:func:`network_model` serialised: what ONNX Runtime and a ``.onnx`` file take."""
    return network_model(net, same_size).SerializeToString()
