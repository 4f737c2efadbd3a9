"""The web page served by ``alignkg serve``: workbench and evidence browser (see README.md)."""
