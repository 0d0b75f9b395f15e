"""costbridge Streamlit app: a thin router. Pages live in app_pages/, their queries in reports/.

Run with ``streamlit run app.py``; it reads the published snapshots under
``$COSTBRIDGE_PUBLISHED_DIR`` (default ``var/published``), never the warehouse. The sidebar's
"As of" picker (``?as_of=<snapshot_id>``) reads an older kept snapshot. The exports workspace
(``/exports``) signs users in against the ops store that ``$COSTBRIDGE_CONFIG`` names.
"""

import streamlit as st

from app_pages import _auth, _data, _report_page

st.set_page_config(page_title="costbridge", page_icon=":material/account_balance:", layout="wide")

sections: dict[str, list] = {
    "Dashboards": [
        st.Page("app_pages/portfolio.py", title="Portfolio", icon=":material/dashboard:",
                default=True),
    ],
    "Reports": [
        st.Page("app_pages/budget_view.py", title="Project budget view",
                icon=":material/request_quote:"),
    ],
}
# One page per catalogue report (reports/catalog.py), rendered by app_pages/_report_page.py.
for spec in _report_page.PAGES:
    sections.setdefault(spec.group, []).append(_report_page.page(spec.report))
# The approver workspace: the only page that needs sign-in (app_pages/_auth.py).
sections["Exports"] = [st.Page("app_pages/exports.py", title="Exports workspace",
                               icon=":material/outbox:", url_path="exports")]
page = st.navigation(sections)
_data.sidebar()
_auth.sidebar()
page.run()
