/* Starts Swagger UI on /api/docs/ (templates/api_docs/swagger.html): a static file, because the
   app's Content-Security-Policy allows no inline script. Requests made from "Try it out" use the
   browser session, so writes carry the CSRF token from its cookie. */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-schema-url"),
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    requestInterceptor: function (request) {
      if (request.method && request.method !== "GET" && request.method !== "HEAD") {
        request.headers[root.getAttribute("data-csrf-header") || "X-CSRFToken"] = csrfToken();
      }
      return request;
    }
  });
})();
