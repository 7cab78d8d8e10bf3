# %% [markdown]
# # Lesson 1: gradients of gradients, and why MAML needs them
#
# MAML (lesson 4) learns a starting point $\theta$ from which *one gradient step* on a new
# task already works well. To improve $\theta$ it must differentiate through that gradient
# step, which means differentiating a gradient: a second derivative. This lesson builds
# that up with the engine in `metanumpy/autograd/`:
#
# 1. Tensors and `grad`, then a second derivative;
# 2. a Hessian-vector product, the only piece of the Hessian MAML ever needs;
# 3. one MAML step on 1-D linear regression, with the meta-gradient computed by the engine
#    and by hand;
# 4. `gradcheck`, the student's tool that catches a wrong backward.
#
# Run it as a script (`python lessons/01_autograd.py`) or open it as a notebook
# (jupytext). Everything here is instant; `--fast` changes nothing.

# %% tags=["parameters"]
"""Lesson 1: gradients of gradients, Hessian-vector products, and one MAML step by hand."""

# Settings. A notebook takes them from here; a script from its flags --seed, --fast,
# --out (these values are their defaults).
SEED = 0      # seeds the data, the models and the episodes
FAST = False  # True: tiny budgets, a seconds-long check (its numbers mean nothing)
OUT = None    # folder for plots and summary.json; None: out/NN_name/ next to this file

# %%
import numpy as np

import metanumpy as mn
from metanumpy import plot
from metanumpy.autograd import Function
from metanumpy.lessons import Report, lesson_args

args = lesson_args("01_autograd", __doc__, seed=SEED, fast=FAST, out=OUT)
report = Report(args)
mn.set_default_dtype("float64")  # exact comparisons below; the models use float32

# %% [markdown]
# ## 1. Tensors and `grad`
#
# A `Tensor` holds an array and remembers which operation made it. `mn.grad(y, x)` walks
# that record backwards (the chain rule) and returns $dy/dx$. With `create_graph=True` the
# walk is itself recorded, so the gradient is a Tensor with a history of its own and can be
# differentiated again. For $f(x) = \tanh x$:
#
# $$f'(x) = 1 - \tanh^2 x, \qquad f''(x) = -2 \tanh x \,(1 - \tanh^2 x).$$

# %%
x = mn.tensor(0.5, requires_grad=True)
y = mn.tanh(x)
(dy,) = mn.grad(y, x, create_graph=True)   # a Tensor with its own graph
(d2y,) = mn.grad(dy, x)                     # the derivative of the derivative
t = np.tanh(0.5)
print(f"tanh'(0.5)  engine {dy.item():.6f}   formula {1 - t**2:.6f}")
# prints: tanh'(0.5)  engine 0.786448   formula 0.786448
print(f"tanh''(0.5) engine {d2y.item():.6f}  formula {-2 * t * (1 - t**2):.6f}")
# prints: tanh''(0.5) engine -0.726862  formula -0.726862
report.value("second_derivative_error", abs(d2y.item() - (-2 * t * (1 - t**2))),
             "|engine - formula| for tanh''(0.5)", fmt="{:.1e}")

# %% [markdown]
# The same works elementwise on a whole grid at once: the gradient of $\sum_i f(x_i)$ with
# respect to $x_i$ is $f'(x_i)$. The plot shows $f$, $f'$ and $f''$, all three from the engine.

# %%
grid = mn.tensor(np.linspace(-3, 3, 121), requires_grad=True)
(first,) = mn.grad(mn.tanh(grid).sum(), grid, create_graph=True)
(second,) = mn.grad(first.sum(), grid)
report.plot(plot.xy_plot(
    grid.numpy(), {"f(x) = tanh x": np.tanh(grid.numpy()), "f'(x)": first.numpy(),
                   "f''(x)": second.numpy()},
    report.path("derivatives.png"), "tanh and its first two derivatives (from the engine)",
    "x", "value"))

# %% [markdown]
# ## 2. Hessian-vector products
#
# For a loss of many weights $w \in \mathbb{R}^n$ the second derivative is the $n \times n$
# Hessian $H$. With a million weights nobody can store it. MAML only needs $H v$ for one
# vector $v$, and that is the gradient of a scalar:
#
# $$H v = \nabla_w \big( \nabla_w L(w) \cdot v \big).$$
#
# One backward pass with `create_graph=True`, a dot product, and one more backward pass.
# Below we check it against the full Hessian built column by column (affordable for n = 3).

# %%
A = mn.tensor([[1.0, -2.0, 0.5], [0.3, 0.8, -1.0], [2.0, 0.1, 0.4]])
weights = mn.tensor([0.2, -0.4, 0.7], requires_grad=True)
v = mn.tensor([1.0, 0.5, -2.0])


def loss_fn(weights):
    return (mn.tanh(A @ weights) ** 2).sum()


(g,) = mn.grad(loss_fn(weights), weights, create_graph=True)
(hv,) = mn.grad((g * v).sum(), weights)
rows = [mn.grad(g[i], weights)[0].numpy() for i in range(3)]  # row i of H: grad of g_i
hessian = np.stack(rows)
print("H v by double backward:", np.round(hv.numpy(), 6))
# prints: H v by double backward: [ 0.276861 -2.487794  1.928152]
print("H v from the full H:   ", np.round(hessian @ v.numpy(), 6))
# prints: H v from the full H:    [ 0.276861 -2.487794  1.928152]
report.value("hvp_error", np.abs(hv.numpy() - hessian @ v.numpy()).max(),
             "max |Hv (double backward) - H @ v|", fmt="{:.1e}")

# %% [markdown]
# ## 3. One MAML step on 1-D linear regression
#
# A task is a line $y = a x$ with its own slope $a$. Our model is $\hat y = w x$ with one
# weight. MAML adapts $w$ to a task with one gradient step on the task's *support* points,
# then judges the adapted weight $w'$ on the task's *query* points:
#
# $$w' = w - \alpha L_s'(w), \qquad \text{meta-loss} = L_q(w').$$
#
# With $L(w) = \mathrm{mean}((w x - y)^2)$ we have $L'(w) = 2\,\mathrm{mean}(x (w x - y))$ and
# $L_s''(w) = 2\,\mathrm{mean}(x_s^2)$, a constant $H$. The chain rule gives the meta-gradient
#
# $$\frac{d L_q(w')}{d w} = L_q'(w') \, \frac{d w'}{d w} = (1 - \alpha H)\, L_q'(w').$$
#
# The factor $(1 - \alpha H)$ is the second-order term: it exists only if we differentiate
# *through* the inner gradient $L_s'(w)$. First-order MAML drops it and uses $L_q'(w')$ alone.

# %%
rng = np.random.default_rng(args.seed)
slope = 1.5                                    # this task's line: y = 1.5 x
x_support, x_query = rng.normal(size=5), rng.normal(size=10)
y_support, y_query = slope * x_support, slope * x_query
alpha = 0.1                                    # inner learning rate

w = mn.tensor(0.2, requires_grad=True)


def mse(weight, xs, ys):
    return ((weight * mn.tensor(xs) - mn.tensor(ys)) ** 2).mean()


(g_support,) = mn.grad(mse(w, x_support, y_support), w, create_graph=True)
w_fast = w - alpha * g_support                 # the adapted weight, still a function of w
meta_loss = mse(w_fast, x_query, y_query)
(meta_grad,) = mn.grad(meta_loss, w)           # through the inner step: second order

# the same by hand, with plain NumPy
w0 = 0.2
w_adapted = w0 - alpha * 2 * np.mean(x_support * (w0 * x_support - y_support))
hessian_s = 2 * np.mean(x_support**2)
grad_query = 2 * np.mean(x_query * (w_adapted * x_query - y_query))
by_hand = (1 - alpha * hessian_s) * grad_query

report.value("meta_grad_engine", meta_grad.item(), "meta-gradient, engine (second order)")
# prints: meta-gradient, engine (second order): -2.99175
report.value("meta_grad_hand", by_hand, "meta-gradient, by hand (1 - a H) g")
# prints: meta-gradient, by hand (1 - a H) g: -2.99175
report.value("meta_grad_first_order", grad_query, "first-order approximation g (drops 1 - a H)")
# prints: first-order approximation g (drops 1 - a H): -3.08318
report.value("meta_grad_error", abs(meta_grad.item() - by_hand), "|engine - by hand|",
             fmt="{:.1e}", headline=True)

# %% [markdown]
# One outer step $w \leftarrow w - \beta \frac{dL_q(w')}{dw}$ moves the *starting point* so
# that the adapted weight fits the query points better. Real MAML averages this over many
# tasks (many slopes), so $w$ ends up where one step reaches all of them.

# %%
beta = 0.1
w_new = w0 - beta * by_hand
w_new_adapted = w_new - alpha * 2 * np.mean(x_support * (w_new * x_support - y_support))
after = np.mean((w_new_adapted * x_query - y_query) ** 2)
report.value("query_loss_before", meta_loss.item(),
             "query loss after adaptation, before the meta-step")
# prints: query loss after adaptation, before the meta-step: 1.94464
report.value("query_loss_after", after, "query loss after adaptation, after one meta-step")
# prints: query loss after adaptation, after one meta-step: 1.15257

# %% [markdown]
# ## 4. `gradcheck`: catching a wrong backward
#
# Every op in the engine pairs a `forward` (on arrays) with a `backward` (on Tensors). If you
# write a new op, check it: `mn.gradcheck(fn, inputs)` compares the engine's gradient with
# central finite differences $(f(x+h) - f(x-h)) / 2h$, in float64. Here is a square op with
# a classic mistake, a forgotten factor 2 ($d(x^2)/dx = 2x$, not $x$):

# %%


class WrongSquare(Function):
    def forward(self, a):
        return a * a

    def backward(self, g, out):
        (a,) = self.inputs
        return (g * a,)      # wrong on purpose: should be g * 2 * a


def wrong_square(t):
    return WrongSquare()(t)


z = mn.tensor([0.3, -1.2, 2.0], requires_grad=True)
print("gradcheck of tanh:", mn.gradcheck(mn.tanh, [z]))
# prints: gradcheck of tanh: True
try:
    mn.gradcheck(wrong_square, [z])
    caught = False
except mn.GradcheckError as err:
    caught = True
    print("gradcheck of WrongSquare failed, as it should:\n ", err)
report.value("gradcheck_caught_wrong_backward", caught, "gradcheck caught the wrong backward",
             headline=True)

# %% [markdown]
# `mn.gradgradcheck(fn, inputs)` does the same for second derivatives: it checks the
# gradient of $\nabla f \cdot u$, exactly the Hessian-vector products of section 2.

# %%
print("gradgradcheck of sum(tanh(A @ w)^2):", mn.gradgradcheck(loss_fn, [weights]))
# prints: gradgradcheck of sum(tanh(A @ w)^2): True
report.save()

# %% [markdown]
# ## Summary
#
# * `mn.grad(y, x)` gives $dy/dx$; with `create_graph=True` the result can be differentiated
#   again, because every backward is written with recorded Tensor ops.
# * A Hessian-vector product is one more backward pass: $H v = \nabla (\nabla L \cdot v)$,
#   never the full Hessian.
# * MAML's meta-gradient through one inner step is $(1 - \alpha H) \nabla L_q(w')$; the engine
#   computes it exactly (difference from the hand formula at rounding level, about 1e-16).
#   First-order MAML keeps only $\nabla L_q(w')$.
# * `gradcheck` and `gradgradcheck` catch a wrong backward with a message naming the input,
#   the index and both values.
#
# ## Exercises
#
# 1. Take two inner steps in section 3. Write the meta-gradient by hand (a product of two
#    factors $(1 - \alpha H)$) and check it against the engine.
# 2. For which $\alpha$ does $1 - \alpha H$ change sign? What happens to the meta-gradient,
#    and what does that mean for choosing MAML's inner learning rate?
# 3. Fix `WrongSquare.backward` and confirm that `gradcheck` and `gradgradcheck` pass.
# 4. Build the Hessian of section 2 with Hessian-vector products against the unit vectors
#    and compare it with `hessian`. How many backward passes does that take for n weights?
