"""The in-page views (st.components.v2): their HTML, CSS and JS (assets/), and the data they receive."""
