"""Pure `format_*` functions that turn results into lines, and `render_*` that print them to a Console."""
