"""Operators that rearrange entries (entries of :mod:`derivgen.ops`' registry): vec, its
inverse unvec, and the Kronecker product, the vec form of a Jacobian:
vec(A X B) = (Bᵀ ⊗ A) vec(X).

vec stacks the columns of an m×n matrix into one column of m*n entries, the first on
top (NumPy's ``X.reshape(-1, 1, order="F")``); unvec folds such a column back into the
shape of its second argument, which gives the shape alone, as ones_like's does. The
Kronecker product of an m×n A and a p×q B is the (m*p)×(n*q) matrix of the blocks
A_ij B. Their shapes are products of dims (:func:`derivgen.shapes.dim_mul`).

They have no index form: entry i of vec(X) is X_kl where i = k + l m counting from 0,
as the proofs read index forms, but i = k + (l − 1) m counting from 1, as the reports
print them, and no one formula serves both (a slice's shift and a product's δ_ik do).
Their rules are proven against sympy's derivatives as every other rule is.
"""

from __future__ import annotations

from .forms import ShapeMismatch
from .lazy import np, sp
from .nodes import make
from .op import Op, template
from .shapes import NotADim, Shape, dim_mul


def _product(a, b):
    """a·b as a shape rule needs it: a product too large to be a dimension does not fit."""
    try:
        return dim_mul(a, b)
    except NotADim as e:
        raise ShapeMismatch(e.why) from None


def vec_shape(shapes, axis):
    x = shapes[0]
    return Shape(_product(x.rows, x.cols), 1)


def unvec_shape(shapes, axis):
    v, x = shapes
    column = Shape(_product(x.rows, x.cols), 1)
    if v != column:
        raise ShapeMismatch(f"{{0}} is {v}; folded into the shape of {{1}} ({x}) it must be "
                            f"{column}")
    return Shape(x.rows, x.cols)


def kron_shape(shapes, axis):
    a, b = shapes
    return Shape(_product(a.rows, b.rows), _product(a.cols, b.cols))


def sympy_kron(ms, axis):
    a, b = ms
    return sp.Matrix(a.rows * b.rows, a.cols * b.cols, lambda i, j: a[i // b.rows, j // b.cols]
                     * b[i % b.rows, j % b.cols])


# -- the gradient of A ⊗ B: each of A's entries A_ij meets only block (i, j) of G -----------

def _eye_of_rows(x):
    """The identity with a row for each row of x (the size of x xᵀ)."""
    return make("eye_like", x @ x.T)


def _eye_of_cols(x):
    """The identity with a row for each column of x (the size of xᵀ x)."""
    return make("eye_like", x.T @ x)


def _ones_of_rows(x):
    """A column of ones, one per row of x."""
    return make("ones_like", make("sum", x, axis=1))


def _ones_of_cols(x):
    """A column of ones, one per column of x."""
    return make("ones_like", make("sum", x, axis=0).T)


def _kron_grad_a(g, a, b):
    """dL/dA_ij = Σ_st G_(i,s),(j,t) B_st: G ⊙ (𝟏 ⊗ B), each block summed by (I ⊗ 𝟏ᵀ) on
    the left and (I ⊗ 𝟏) on the right."""
    tiled = g * make("kron", make("ones_like", a), b)
    return make("kron", _eye_of_rows(a), _ones_of_rows(b).T) @ tiled @ \
        make("kron", _eye_of_cols(a), _ones_of_cols(b))


def _kron_grad_b(g, a, b):
    """dL/dB = Σ_ij A_ij G_ij, the blocks of G ⊙ (A ⊗ 𝟏) added up by (𝟏ᵀ ⊗ I) and (𝟏 ⊗ I)."""
    weighted = g * make("kron", a, make("ones_like", b))
    return make("kron", _ones_of_rows(a).T, _eye_of_rows(b)) @ weighted @ \
        make("kron", _ones_of_cols(a), _eye_of_cols(b))


VECTORIZE = [
    # d vec(X) = vec(dX); its gradient folds G back into X's shape
    Op("vec", 1, vec_shape, lambda vs, axis: vs[0].reshape(-1, 1, order="F"),
       lambda ms, axis: ms[0].vec(), (lambda g, ans, x, axis: make("unvec", g, x),),
       "the columns of a matrix stacked into one column, the first on top",
       code=template("{0}.reshape(-1, 1, order='F')"),
       # row by row, as torch reshapes: the rows of Xᵀ are X's columns
       torch_code=template("{0}.T.reshape(-1, 1)"),
       jvp=(lambda d, ans, x, axis: make("vec", d),), latex=r"\operatorname{vec}",
       index=(None,)),
    # unvec(v, X) takes only X's shape: no gradient flows to X
    Op("unvec", 2, unvec_shape, lambda vs, axis: vs[0].reshape(vs[1].shape, order="F"),
       lambda ms, axis: sp.Matrix(ms[1].rows, ms[1].cols,
                                  lambda i, j: ms[0][i + j * ms[1].rows, 0]),
       (lambda g, ans, v, x, axis: make("vec", g), None),
       "a column folded into the shape of a matrix, column by column (the inverse of vec)",
       code=template("{0}.reshape({1}.shape, order='F')"),
       torch_code=template("{0}.reshape({1}.shape[1], {1}.shape[0]).T"),
       jvp=(lambda d, ans, v, x, axis: make("unvec", d, x), None),
       latex=r"\operatorname{unvec}", index=(None, None),
       # and a column folded into a row, which fits where every dim is the same n
       examples=((Shape(dim_mul("r", "c"), 1), Shape("r", "c")), (Shape("n", 1), Shape(1, "n")))),
    # d(A ⊗ B) = dA ⊗ B + A ⊗ dB; the printer writes A ⊗ B
    Op("kron", 2, kron_shape, lambda vs, axis: np.kron(*vs), sympy_kron,
       (lambda g, ans, a, b, axis: _kron_grad_a(g, a, b),
        lambda g, ans, a, b, axis: _kron_grad_b(g, a, b)),
       "the Kronecker product: one block per entry of A, that entry times B",
       code=template("np.kron({0}, {1})"),
       # torch.kron fails on some transposed arguments (Bᵀ beside A: a view it cannot take)
       torch_code=template("torch.kron({0}.contiguous(), {1}.contiguous())"),
       jvp=(lambda d, ans, a, b, axis: make("kron", d, b),
            lambda d, ans, a, b, axis: make("kron", a, d)),
       index=(None, None),
       # blocks of another shape than A's; a column times a row; a number times a matrix
       examples=((Shape("r", "c"), Shape("k", "n")), (Shape("n", 1), Shape(1, "n")),
                 (Shape(1, 1), Shape("r", "c")))),
]
