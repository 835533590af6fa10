/* Starts Redoc on /api/redoc/ (templates/api_docs/redoc.html): a static file, because the app's
   Content-Security-Policy allows no inline script; the system's fonts, never a font CDN. Redoc
   writes its styles at run time: they carry the page's style nonce (config/api_docs.py). */
(function () {
  "use strict";
  var root = document.getElementById("redoc-container");
  var fonts = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  window.Redoc.init(root.getAttribute("data-schema-url"), {
    nonce: root.getAttribute("data-style-nonce") || undefined,
    theme: { typography: { fontFamily: fonts, headings: { fontFamily: fonts } } }
  }, root);
})();
