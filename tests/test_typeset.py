"""The worked entry of a rule, as the report shows it: exact LaTeX, and shown only
when proven."""

from conftest import ROOT
from derivgen.derivation import derive
from derivgen.backward import Link
from derivgen.problem import load

SOFTMAX = ROOT / "problems" / "softmax.toml"


def views_by_link(d) -> dict[tuple[str, str], dict]:
    links = [item for item in d.backward.order if isinstance(item, Link)]
    return {(link.step, getattr(link.target, "name", "")): view
            for link, view in zip(links, d.views.links)}


def test_softmax_reads_like_seed_000():
    """∂A/∂S_{1,1} in the named entries of A as the registry's index form writes it
    (A_{1,1}(1 − A_{1,1}), −A_{1,1}A_{2,1}), its overlay with G_A written out, and
    the simplified entry once each column of Y sums to 1."""
    view = views_by_link(derive(load(SOFTMAX)))[("A", "S")]
    assert view["pattern"] == (
        r"\begin{bmatrix} A_{1,1} \left(1 - A_{1,1}\right) & 0 & 0 \\ "
        r"- A_{1,1} A_{2,1} & 0 & 0 \\ - A_{1,1} A_{3,1} & 0 & 0 \end{bmatrix}")
    assert view["overlay"] == (
        r"\begin{aligned} \sum_{i,j} G_{ij}\, \frac{\partial\, A_{ij}}{\partial\, S_{1,1}} "
        r"&= - \frac{Y_{1,1} \left(1 - A_{1,1}\right)}{3} + \frac{A_{1,1} Y_{2,1}}{3} \\ "
        r"&\quad + \frac{A_{1,1} Y_{3,1}}{3} \\ "
        r"&= \frac{A_{1,1} - Y_{1,1}}{3} \end{aligned}")
    # the assumption as the equation that step uses (not A's columns, also known to sum to 1)
    assert view["facts"] == ["Y_{1,1} + Y_{2,1} + Y_{3,1} = 1"]


def test_a_matrix_product_reads_like_seed_001():
    view = views_by_link(derive(load(SOFTMAX)))[("S", "W")]
    assert view["facts"] == []
    assert view["overlay"] == (
        r"\begin{aligned} \sum_{i,j} G_{ij}\, \frac{\partial\, S_{ij}}{\partial\, W_{1,1}} "
        r"&= X_{1,1} \left(G_{S}\right)_{1,1} + X_{1,2} \left(G_{S}\right)_{1,2} \\ "
        r"&\quad + X_{1,3} \left(G_{S}\right)_{1,3} \end{aligned}")


def test_nothing_unproven_is_shown(monkeypatch):
    """Were the prover unable to prove the worked entries, the report would show the
    pattern in sympy's own terms and no overlay."""
    import derivgen.derivation
    real = derivgen.derivation.views

    def unproven(problem, prover, back, printer, composed):
        prover.is_zero = lambda expr: False         # after the pass: only the views see it
        return real(problem, prover, back, printer, composed)

    monkeypatch.setattr(derivgen.derivation, "views", unproven)
    d = derive(load(SOFTMAX))
    view = views_by_link(d)[("A", "S")]
    assert view["overlay"] == "" and "e^{S_{1,1}}" in view["pattern"]
    assert not any(e["shown"] for e in d.views.end_to_end)


def test_the_notation_lists_the_operations_the_report_writes():
    """From the registry, for the operations used: written on two matrices whose
    names the problem leaves free (softmax uses A, so P and Q)."""
    from derivgen.report import context
    notation = context(derive(load(SOFTMAX)))["notation"]
    assert (notation["a"], notation["b"]) == ("P", "Q")
    assert [(n["symbol"], n["meaning"]) for n in notation["operations"]] == [
        ("P - Q", "element-wise difference, with broadcasting"),
        (r"P \odot Q", "element-wise (Hadamard) product, with broadcasting"),
        (r"P \oslash Q", "element-wise quotient, with broadcasting"),
        ("P Q", "matrix product"),
        ("-P", "negation"),
        (r"P^{\top}", "transpose"),
        (r"\log\left(P\right)", "natural logarithm of each entry"),
        (r"\mathbf{1}^{\top} P \mathbf{1}, \quad \mathbf{1}^{\top} P",
         "sum of all entries, of each column or of each row"),
        (r"\operatorname{softmax}_{\text{col}}\left(P\right)",
         "each column (or row) exponentiated and divided by its sum"),
        (r"\mathbf{1}", "a matrix of ones, of the shape its place needs"),
    ]


def test_a_step_of_entry_wise_and_summing_operations_is_one_list():
    """Division by N, negation, the sum, the product with Y and the log in
    L = -sum(Y * log(A)) / N act entry by entry or only spread the gradient: one
    section, each operation a line with its local partial, ending at ∂L/∂A (seed 000
    writes −(1/N) Y ⊘ A at once)."""
    from derivgen.report import context
    (section,) = [s for s in context(derive(load(SOFTMAX)))["backward"] if s["name"] == "L"]
    (block,) = section["blocks"]
    assert [(c["local"] or c["index"], c["rule"], c["result"]) for c in block["brief"]] == [
        (r"\frac{1}{N}", r"\frac{G}{N}", r"\frac{1}{N}"), ("-1", "-G", r"\frac{-1}{N}"),
        ("1", r"G \mathbf{1}", r"\frac{-1}{N} \mathbf{1}"),
        ("{Y}_{i,j}", r"G \odot Y", r"\frac{-Y}{N}"),
        (r"\frac{1}{{A}_{i,j}}", r"G \oslash A", r"-Y \oslash \left(N A\right)")]
    assert section["targets"] == ["A"] and not any(c["branch"] for c in block["brief"])


def test_a_branch_says_where_the_gradient_comes_from():
    """In the binary cross-entropy the second term's rules start again from the sum:
    that line names what it goes from and to; the others continue from the line before."""
    from derivgen.report import context
    back = context(derive(load(ROOT / "problems" / "logistic_regression.toml")))["backward"]
    (section,) = [s for s in back if s["name"] == "L"]
    runs = [b["brief"] for b in section["blocks"] if b["brief"]]
    assert [[c["branch"] for c in run] for run in runs] == [
        [False] * 5, [True, False, False, False]]
    assert runs[1][0]["target"] == (
        r"\left(\left(1 - y\right) \odot \log\left(1 - p\right)\right)")


def test_the_sigmoid_entry_cancels_as_in_the_textbook():
    """p = σ(z): ∂p/∂z_{1,1} in the named entry p_{1,1}(1 − p_{1,1}), and the overlay
    with G_p shows the cancellation that leaves (p_{1,1} − y_{1,1})/3."""
    view = views_by_link(derive(load(ROOT / "problems" / "logistic_regression.toml")))[
        ("p", "z")]
    assert view["pattern"] == (
        r"\begin{bmatrix} p_{1,1} \left(1 - p_{1,1}\right) \\ 0 \\ 0 \end{bmatrix}")
    assert view["overlay"].endswith(r"&= \frac{p_{1,1} - y_{1,1}}{3} \end{aligned}")


def test_a_rule_inside_a_step_gets_its_worked_entry_and_shape_check():
    """z = X w + b: the product X w is not a step of its own, yet its rule back to w
    shows ∂(X w)/∂w_{1,1} and the overlay, and checks (D × N)(N × 1) = D × 1."""
    from derivgen.report import context
    back = context(derive(load(ROOT / "problems" / "logistic_regression.toml")))["backward"]
    (section,) = [s for s in back if s["name"] == "z"]
    rules = {b["rule"]["target"]: b["rule"] for b in section["blocks"] if b["rule"]}
    assert rules["w"]["pattern"] == (
        r"\begin{bmatrix} X_{1,1} \\ X_{2,1} \\ X_{3,1} \end{bmatrix}")
    assert rules["w"]["shape_check"] == (
        r"\left(D \times N\right)\left(N \times 1\right) = D \times 1")
    assert rules["b"]["shape_check"] == r"1 \times 1"


def test_an_index_form_names_the_dims_it_divides_by():
    """The mean's partial is 1/(m n), as its rule says: not 0.166666666666667."""
    view = views_by_link(derive(load(ROOT / "problems" / "mean_entries.toml")))[("L", "B")]
    assert view["index"] == r"\frac{1}{m n}"


def test_a_result_states_what_it_assumes():
    """A result holding an inverse, directly or through a step, says the matrix is
    invertible (from the registry's inv entry); one without says nothing."""
    from derivgen.report import context
    for name in ("cookbook_det", "cookbook_trace_inverse"):
        (result,) = context(derive(load(ROOT / "problems" / f"{name}.toml")))["results"]
        assert result["conditions"] == [{"math": "X", "text": "is invertible"}], name
    assert all(not r["conditions"] for r in context(derive(load(SOFTMAX)))["results"])


def test_the_notation_finds_free_names_whatever_the_problem_takes(problem_file):
    """A problem using every preferred letter still gets a notation (it once raised),
    in free single letters: P_{1} once gave P_{1}_{ij}, a double subscript."""
    from derivgen.report import context
    letters = "ABPQUVMKEF"
    text = "\n".join(['title = "t"', "[dims]", "n = 2", "[inputs]",
                      *(f'{c} = {{ shape = ["n", "n"] }}' for c in letters), "[steps]",
                      'L = "sum(' + " * ".join(letters) + ')"', "[derive]", 'of = "L"',
                      'wrt = ["A"]', ""])
    notation = context(derive(load(problem_file(text))))["notation"]
    assert (notation["a"], notation["b"]) == ("C", "D")
    assert notation["operations"][0]["symbol"] == r"C \odot D"


def test_one_entry_end_to_end_as_seed_001_checks_it():
    """L written out in W's entries, differentiated by W_{1,1}, minus entry (1, 1) of
    the result, expands to zero (with each column of Y summing to 1)."""
    checks = {e["name"]: e for e in derive(load(SOFTMAX)).views.end_to_end}
    assert all(e["shown"] for e in checks.values())
    assert checks["S"]["equation"] == (
        r"\frac{\partial L}{\partial S_{1,1}} = \frac{A_{1,1} - Y_{1,1}}{3}")
    # too long for a line: the 1/3 taken into each term, and the terms over lines
    assert checks["W"]["equation"] == (
        r"\begin{aligned} \frac{\partial L}{\partial W_{1,1}} "
        r"&= \frac{X_{1,1} \left(A_{1,1} - Y_{1,1}\right)}{3} \\ "
        r"&\quad + \frac{X_{1,2} \left(A_{1,2} - Y_{1,2}\right)}{3} \\ "
        r"&\quad + \frac{X_{1,3} \left(A_{1,3} - Y_{1,3}\right)}{3} \end{aligned}")


def test_end_to_end_is_not_claimed_for_a_wrong_formula(monkeypatch):
    """Were a gradient's first entry wrong, the check would not be shown."""
    import sympy as sp

    import derivgen.derivation
    real = derivgen.derivation.views

    def wrong(problem, prover, back, printer, composed):
        return real(problem, prover, back, printer,
                    lambda name: composed(name) + sp.ones(*composed(name).shape))

    monkeypatch.setattr(derivgen.derivation, "views", wrong)
    assert not any(e["shown"] for e in derive(load(SOFTMAX)).views.end_to_end)


def test_end_to_end_is_skipped_where_the_loss_written_out_is_too_large():
    """A transformer block's loss in the entries of X has thousands of operations: the
    check is left out (and the report says so), the build stays fast."""
    checks = {e["name"]: e["shown"]
              for e in derive(load(ROOT / "problems" / "transformer_block.toml")).views.end_to_end}
    assert checks["X"] is False and checks[r"\gamma_2"] is True


def test_a_scalar_step_is_written_out_without_a_one_by_one_matrix():
    """The element-wise view gives L = −Y_{1,1} log(A_{1,1})/3 − ..., not L = [L_{1,1}]."""
    (view,) = [v for v in derive(load(SOFTMAX)).views.elementwise if v["name"] == "L"]
    assert view["matrix"] == ""
    assert view["entry"].startswith(
        r"\begin{aligned} L &= - \frac{Y_{1,1} \log{\left(A_{1,1} \right)}}{3}")


def test_no_worked_entry_where_the_target_occurs_twice():
    """q = xᵀ A x: sympy's ∂q/∂x_{1,1} is the sum of the two rules' partials, so neither
    rule back to x shows it as its own."""
    views = [v for (step, target), v in views_by_link(
        derive(load(ROOT / "problems" / "cookbook_quadratic_form.toml"))).items()
        if target == "x"]
    assert views and all(v["pattern"] == "" for v in views)


def test_an_unnamed_target_gets_entries_of_its_own():
    """S = Qᵀ K / √d: the rule back to Qᵀ shows ∂(Qᵀ K)/∂(Qᵀ)_{1,1} in those entries,
    and its overlay with the gradient G_S / √d, proven with (Qᵀ)_{1,1} written out."""
    from derivgen.report import context
    back = context(derive(load(ROOT / "problems" / "attention.toml")))["backward"]
    (rule,) = [b["rule"] for s in back for b in s["blocks"]
               if b["rule"] and b["rule"]["target"] == r"\left(Q^{\top}\right)"]
    assert rule["pattern"] == r"\begin{bmatrix} K_{1,1} & K_{1,2} \\ 0 & 0 \end{bmatrix}"
    assert rule["overlay"].endswith(
        r"&= \frac{\sqrt{2} K_{1,1} \left(G_{S}\right)_{1,1}}{2} \\ "
        r"&\quad + \frac{\sqrt{2} K_{1,2} \left(G_{S}\right)_{1,2}}{2} \end{aligned}")


def test_labels_of_plus_or_minus_one_square_to_one(problem_file):
    """(1 − y z)² with y = ±1: the gradient is 2 (z − y) / N because y² = 1, the worked
    entry says so as an equation, and without the assumption the gradient keeps y²."""
    from derivgen.expr import to_source
    path = ROOT / "problems" / "least_squares_classifier.toml"
    d = derive(load(path))
    assert to_source(d.gradients["z"].expr) == "2 * (z - y) / N"
    assert [r.words(to_source) for r in d.gradients["z"].reasons] == [
        "every entry of y is −1 or +1"]
    assert views_by_link(d)[("L", "z")]["facts"] == ["y_{1,1}^{2} = 1"]
    text = path.read_text().replace(', assume = ["signs"]', "").split("[expect]")[0]
    plain = derive(load(problem_file(text)))
    assert to_source(plain.gradients["z"].expr) != "2 * (z - y) / N"
    assert not plain.gradients["z"].reasons


def test_the_unit_step_is_written_as_the_notation_defines_it():
    """relu's partial is step(Z_{1,1}), the notation's step, not sympy's θ(Z_{1,1}, 0)."""
    view = views_by_link(derive(load(ROOT / "problems" / "relu_network.toml")))[("R", "Z")]
    assert view["pattern"] == (r"\begin{bmatrix} \operatorname{step}\left(Z_{1,1}\right) & 0 \\ "
                               r"0 & 0 \\ 0 & 0 \end{bmatrix}")
    assert r"\theta" not in view["index"] + view["overlay"]


def test_a_gradient_of_ones_is_written_as_ones():
    """sum(...) with G = 1 gives 𝟏, not 1 𝟏 (a rule applied to the number 1)."""
    from derivgen.report import context
    (section,) = [s for s in context(derive(load(ROOT / "problems" / "logsumexp.toml")))[
        "backward"] if s["name"] == "L"]
    assert [c["result"] for b in section["blocks"] if b["brief"] for c in b["brief"]] == [
        r"\mathbf{1}"]
