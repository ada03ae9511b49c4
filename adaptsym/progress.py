"""Progress bars for long loops.

Bars are drawn with ``tqdm.auto`` (a widget in Jupyter, text in a terminal).  Inside a chapter executed by
papermill they would only clutter the saved notebook, so :mod:`adaptsym.book` sets ``ADAPTSYM_PROGRESS=0``
for the kernel and papermill's own bar reports progress cell by cell instead.
"""

import os

from tqdm.auto import tqdm


def progress_bar(iterable=None, *, disable: bool = False, **kwargs) -> tqdm:
    """``tqdm(iterable, **kwargs)``, disabled if ``disable`` or ``$ADAPTSYM_PROGRESS`` is ``0``."""
    return tqdm(iterable, disable=disable or os.environ.get("ADAPTSYM_PROGRESS") == "0", **kwargs)
