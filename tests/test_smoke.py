import metanumpy as mn


def test_second_derivative_of_a_cube():
    x = mn.tensor([1.0, 2.0], requires_grad=True)
    (g,) = mn.grad((x**3).sum(), x, create_graph=True)
    (h,) = mn.grad(g.sum(), x)
    assert g.numpy().tolist() == [3.0, 12.0]
    assert h.numpy().tolist() == [6.0, 12.0]
