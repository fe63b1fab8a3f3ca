"""The offline demo: moto in-process as the embedded AWS, the ``examples/`` repository as git."""
