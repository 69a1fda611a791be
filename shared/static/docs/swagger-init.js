// Starts Swagger UI on the page's #swagger-ui element (shared/api_docs.py): the document's address comes
// from a data attribute, so the page needs no inline script. No validator (it would call validator.swagger.io).
window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    persistAuthorization: false,
    displayRequestDuration: true,
    tryItOutEnabled: false,
    oauth2RedirectUrl: window.location.origin + el.dataset.oauth2RedirectUrl,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
