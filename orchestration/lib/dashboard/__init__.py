"""The dashboard's logic without a web server: settings, accounts and access rules
(:mod:`.access`), the published snapshot (:mod:`.snapshot`), the queries behind every
page (:mod:`.queries`), the Plotly figures (:mod:`.charts`) and the interface strings
(:mod:`.i18n`). The web application (``orchestration/dashboard``) only routes requests
to these functions and renders their plain data.
"""
