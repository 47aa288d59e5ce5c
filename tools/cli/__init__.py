"""The ``fitbit-pipeline`` command: the embedded pipeline for people without a Google Cloud project.

One module per subcommand, each a thin layer over the code that already does the work (the local runtime,
the authorise flow, the HTML report, the warehouse); ``main`` builds the parser and maps outcomes to the
documented exit codes (``common.EXIT_*``).
"""
