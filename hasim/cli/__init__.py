"""The ``hasim`` command line, one module per command.

:mod:`hasim.cli.main` holds the parser and :func:`hasim.cli.main.main` (the console script);
:mod:`~hasim.cli.analyze` (``validate``, ``analyze``), :mod:`~hasim.cli.run`, :mod:`~hasim.cli.sweep`,
:mod:`~hasim.cli.compare` and :mod:`~hasim.cli.report` the commands; :mod:`~hasim.cli.common` what
they share (exit codes, loading, options, Dask) and :mod:`~hasim.cli.tables` their text output.

This file imports nothing, so that importing one module of the layer never drags in the others
(``tests/test_layers.py``).
"""
