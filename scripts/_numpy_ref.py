"""Hand-written NumPy references for ``scripts/bench.py``: the same work as the autograd
engine does, with every backward pass written out by hand (no autograd at all).

They are the "speed of light" for a NumPy-based engine: an autograd engine can only add
bookkeeping on top of these array operations, so ``engine time / reference time`` measures
what the bookkeeping costs.

Everything works on float32 arrays and allocates new arrays where the engine does, so the
comparison is fair (the optimizer updates, like the engine's, are done in place).
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------------------------------
# (a) a chain of tiny element-wise ops:  y = y * w; y = y + x   (repeated), then y.sum()
# ---------------------------------------------------------------------------------------


def mul_add_chain(x: np.ndarray, w: np.ndarray, n_pairs: int):
    """Forward and backward of ``y = x; repeat n_pairs times: y = y * w; y = y + x``
    followed by ``loss = y.sum()``.

    Returns ``(loss, grad_x, grad_w)``.

    The forward pass remembers what the backward pass needs (the input of every
    multiplication); the backward pass then walks the chain from the end to the start.
    """
    # forward: keep the input of each `y * w` (d(y * w)/dw = y)
    mul_inputs = []
    y = x
    for _ in range(n_pairs):
        mul_inputs.append(y)
        y = y * w
        y = y + x
    loss = y.sum()

    # backward: d loss / d y = 1, then go back through the ops in reverse order
    gy = np.ones_like(y)
    gx = np.zeros_like(x)
    gw = np.zeros_like(w)
    for y_in in reversed(mul_inputs):
        # y_out = y_mid + x    ->  dy_mid = gy,      dx += gy
        gx = gx + gy
        # y_mid = y_in * w     ->  dy_in = gy * w,   dw += gy * y_in
        gw = gw + gy * y_in
        gy = gy * w
    gx = gx + gy  # the chain started from y = x
    return loss, gx, gw


# ---------------------------------------------------------------------------------------
# (c) a long chain of scalar ops:  y = y * c, y = y + c, y = y * c, ...  then y.sum()
# ---------------------------------------------------------------------------------------


def scalar_chain(x: np.ndarray, n_ops: int, factor: float = 1.0001, shift: float = 0.0):
    """Forward and backward of ``n_ops`` ops (``n_ops`` even) alternating
    ``y = y * factor`` and ``y = y + shift``, starting from ``y = x``, followed by
    ``loss = y.sum()``.

    Returns ``(loss, grad_x)``.

    The ops are recorded on a "tape" (a list of what was done) during the forward pass and
    the tape is replayed backwards, as an autograd engine would do; neither op needs to
    save an array, only which op it was and its constant.
    """
    tape = []
    y = x
    for _ in range(n_ops // 2):
        y = y * factor
        tape.append(("mul", factor))
        y = y + shift
        tape.append(("add", shift))
    loss = y.sum()

    gy = np.ones_like(y)
    for op, c in reversed(tape):
        if op == "mul":  # d(y * c)/dy = c
            gy = gy * c
        # "add": d(y + c)/dy = 1, the gradient passes through unchanged
    return loss, gy


# ---------------------------------------------------------------------------------------
# (b) a multi-layer perceptron trained with softmax cross-entropy and SGD with momentum
# ---------------------------------------------------------------------------------------


class MLP:
    """A ReLU multi-layer perceptron, e.g. 784-256-128-10, trained with softmax
    cross-entropy (mean over the batch) and SGD with momentum, as in PyTorch.

    Args:
        params: ``[(W1, b1), (W2, b2), ...]``, with each weight stored as
            ``(out_features, in_features)`` like ``torch.nn.Linear``; they are copied.
        lr: learning rate.
        momentum: momentum factor.

    Each layer computes ``z = a @ W.T + b``; every layer but the last is followed by ReLU.
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9):
        self.weights = [np.array(w, dtype=np.float32) for w, _ in params]
        self.biases = [np.array(b, dtype=np.float32) for _, b in params]
        self.lr = lr
        self.momentum = momentum
        # momentum buffers, created from the first gradient (PyTorch's convention)
        self.w_bufs = [None] * len(self.weights)
        self.b_bufs = [None] * len(self.biases)

    def train_step(self, x: np.ndarray, target: np.ndarray) -> float:
        """One step on a batch ``x`` (N, in_features) with integer class labels ``target``
        (N,): forward, loss, backward, SGD update. Returns the loss before the update."""
        n_layers = len(self.weights)

        # ---- forward: remember each layer's input and pre-activation -----------------
        inputs = []  # the input `a` of every layer
        pre = []  # the pre-activation `z` of every hidden layer (for ReLU's backward)
        a = x
        for w, b in zip(self.weights[:-1], self.biases[:-1]):  # hidden layers
            inputs.append(a)
            z = a @ w.T + b
            pre.append(z)
            a = np.maximum(z, 0)  # ReLU
        inputs.append(a)
        logits = a @ self.weights[-1].T + self.biases[-1]  # output layer: no ReLU

        # ---- softmax cross-entropy, mean over the batch ------------------------------
        n = x.shape[0]
        rows = np.arange(n)
        shifted = logits - logits.max(axis=1, keepdims=True)  # for numerical stability
        log_sum_exp = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        log_probs = shifted - log_sum_exp
        loss = -log_probs[rows, target].mean()

        # ---- backward -----------------------------------------------------------------
        # d loss / d logits = (softmax(logits) - onehot(target)) / N
        g = np.exp(log_probs)
        g[rows, target] -= 1
        g /= n
        w_grads = [None] * n_layers
        b_grads = [None] * n_layers
        for i in reversed(range(n_layers)):
            w_grads[i] = g.T @ inputs[i]  # dW = g^T a   (shape (out, in), like W)
            b_grads[i] = g.sum(axis=0)  # db = sum of g over the batch
            if i > 0:  # the input x itself needs no gradient
                g = g @ self.weights[i]  # da = g W
                g *= pre[i - 1] > 0  # through ReLU: zero where z <= 0

        # ---- SGD with momentum, in place ----------------------------------------------
        #   buf = momentum * buf + grad;   param -= lr * buf
        for i in range(n_layers):
            self.w_bufs[i] = self._sgd(self.weights[i], w_grads[i], self.w_bufs[i])
            self.b_bufs[i] = self._sgd(self.biases[i], b_grads[i], self.b_bufs[i])
        return float(loss)

    def _sgd(self, param, grad, buf):
        """Update ``param`` in place; returns the (new or updated) momentum buffer."""
        if buf is None:
            buf = grad.copy()
        else:
            buf *= self.momentum
            buf += grad
        param -= self.lr * buf
        return buf
