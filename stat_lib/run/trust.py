"""Executed notebooks that JupyterLab opens trusted, so their folium maps show.

JupyterLab shows HTML with scripts only for a trusted notebook: one whose signature (an HMAC of
its contents under a secret key) is in its signature database. ``nbformat.sign.NotebookNotary``
signs with the secret ``<jupyter data dir>/notebook_secret`` and records in
``<jupyter data dir>/nbsignatures.db`` (``jupyter --data-dir`` prints the folder;
``JUPYTER_DATA_DIR`` moves it). A signature is trusted only under the secret and database that
made it: run the batch as the user who opens JupyterLab, or give the batch's service account
and the liaisons one shared data dir (docs/liaisons.md, "Trusted notebooks").
"""

from __future__ import annotations

from pathlib import Path


def sign(path: Path, notary=None) -> None:
    """Sign the notebook at ``path`` in place (default notary: this user's Jupyter data dir)."""
    import nbformat
    from nbformat.sign import NotebookNotary
    nb = nbformat.read(path, as_version=4)
    (notary or NotebookNotary()).sign(nb)
    nbformat.write(nb, path)


def is_trusted(path: Path, notary=None) -> bool:
    """Whether JupyterLab (under ``notary``'s secret and database) trusts the notebook."""
    import nbformat
    from nbformat.sign import NotebookNotary
    return (notary or NotebookNotary()).check_signature(nbformat.read(path, as_version=4))
