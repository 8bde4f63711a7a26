// MathJax 3 configuration for pymdownx.arithmatex (generic mode). Loaded before the MathJax
// bundle, which docs/hooks/mathjax_assets.py copies into the site from an installed package.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    // Typeset only what arithmatex marked as math, never code or prose with a dollar sign.
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
