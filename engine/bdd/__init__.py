"""Policy drafters' scenarios: a Chinese/English Gherkin vocabulary for Huiqi rules, run by pytest.

``engine.bdd.plugin`` is a pytest plugin (entry point ``pytest11: huiqi``) that collects ``.feature``
files directly; ``engine.bdd.sentences`` is the vocabulary; ``engine.bdd.world`` runs the steps
against the engine; ``engine.bdd.lint`` checks feature files without running them.
This package imports nothing heavy at import time.
"""
