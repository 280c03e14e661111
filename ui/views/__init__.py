"""The page's sections: the sidebar, the text, the panels below it, the Analyses and Cell pages."""
