/* docs.js -- start Swagger UI on /api/docs/ with this server's own description.
 * "Try it out" calls the API on this origin, so the browser's cookies apply (sign in
 * with POST /api/login/ first); no request leaves for another host (validatorUrl: null). */
'use strict';

window.addEventListener('DOMContentLoaded', function () {
  if (typeof window.SwaggerUIBundle !== 'function') {
    document.getElementById('swagger-ui').textContent = 'Swagger UI failed to load.';
    return;
  }
  window.ui = window.SwaggerUIBundle({
    url: new URL('../schema/', window.location.href).toString(),
    dom_id: '#swagger-ui',
    deepLinking: true,
    layout: 'BaseLayout',
    presets: [window.SwaggerUIBundle.presets.apis],
    validatorUrl: null,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    withCredentials: true,
    requestInterceptor: function (req) {
      req.credentials = 'same-origin';
      return req;
    },
  });
});
