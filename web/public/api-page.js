// The dashboard's API page: Swagger UI (vendored, see copy-vendor.mjs) rendering the
// api's own OpenAPI document. "Try it out" uses the dashboard's token when one is stored.
/* global SwaggerUIBundle */
const ui = SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  tryItOutEnabled: false,
  onComplete: () => {
    const token = localStorage.getItem('genx.token');
    if (token) ui.preauthorizeApiKey('bearerAuth', token);
  },
});
