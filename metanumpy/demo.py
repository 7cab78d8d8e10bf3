"""A short tour of the engine: `python -m metanumpy demo` (the README shows its output).

It differentiates f(x) = x^3 three times, takes a Hessian-vector product, and checks a
gradient against finite differences: the three tools second-order MAML is built from.
"""

import metanumpy as mn


def main():
    x = mn.tensor([1.0, 2.0], requires_grad=True)
    y = (x**3).sum()
    (dy,) = mn.grad(y, x, create_graph=True)  # 3x^2, itself differentiable
    (d2y,) = mn.grad(dy.sum(), x, create_graph=True)  # 6x
    (d3y,) = mn.grad(d2y.sum(), x)  # 6
    print("f(x) = sum(x^3) at x = [1, 2]")
    print("f'(x)   =", dy.numpy().tolist())
    print("f''(x)  =", d2y.numpy().tolist())
    print("f'''(x) =", d3y.numpy().tolist())

    # Hessian-vector product: differentiate <grad f(w), v> once more (no Hessian is ever stored)
    w = mn.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    v = mn.tensor([[1.0, 0.0], [0.0, 1.0]])
    (g,) = mn.grad(((w @ w).tanh() ** 2).sum(), w, create_graph=True)
    (hv,) = mn.grad((g * v).sum(), w)
    print("Hessian-vector product of sum(tanh(W @ W)^2):", [round(a, 4) for a in hv.numpy().ravel().tolist()])

    with mn.default_dtype("float64"):
        a = mn.tensor([[0.3, -0.2], [0.1, 0.4]], requires_grad=True)
        ok = mn.gradcheck(lambda t: mn.softmax(t @ t), [a]) and mn.gradgradcheck(
            lambda t: mn.softmax(t @ t), [a])
    print("gradcheck and gradgradcheck of softmax(A @ A):", "passed" if ok else "failed")


if __name__ == "__main__":
    main()
