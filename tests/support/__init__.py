"""What the tests share besides fixtures (those are in ``tests/conftest.py``).

``support.builders``: everything a test builds: homes (params/ + data + store), params edits,
request rows and frames, tiny notebooks folders, the hand-worked metrics fixture, one executed
test packet. ``support.browser``: headless Chromium for tests, and the CI-tool check.

Test modules import from here, never from each other.
"""
