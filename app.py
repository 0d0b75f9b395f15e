"""costbridge Streamlit app: a thin router. Pages live in app_pages/, their queries in reports/.

Run with ``streamlit run app.py``; it reads the published snapshot under
``$COSTBRIDGE_PUBLISHED_DIR`` (default ``var/published``), never the warehouse.
"""

import streamlit as st

from app_pages import _data

st.set_page_config(page_title="costbridge", page_icon=":material/account_balance:", layout="wide")

page = st.navigation(
    {
        "Dashboards": [
            st.Page("app_pages/portfolio.py", title="Portfolio", icon=":material/dashboard:",
                    default=True),
        ],
        "Reports": [
            st.Page("app_pages/budget_view.py", title="Project budget view",
                    icon=":material/request_quote:"),
        ],
    }
)
_data.sidebar()
page.run()
