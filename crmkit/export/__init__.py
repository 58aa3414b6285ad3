"""Documents for people: Markdown (jinja2), self-contained HTML (markdown-it-py), SVG, XLSX."""
