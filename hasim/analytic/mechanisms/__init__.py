"""The first-order delay term of each mechanism, one module each.

Every module exposes one function ``(terms, name) -> None`` that adds the
delay terms its mechanism causes at service ``name`` to ``terms`` (a
:class:`hasim.analytic.first_order.DelayTerms`), and adds nothing where the
mechanism does not apply.  :mod:`hasim.analytic.analysis` lists them in the
order their terms are produced.
"""
