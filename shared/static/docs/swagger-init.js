// Starts Swagger UI on the page's #swagger-ui element (shared/api_docs.py): the document's address comes
// from a data attribute, so the page needs no inline script. No validator (it would call validator.swagger.io).
// A document in parts (the gateway's: one per service, see shared/api_docs.install_api_docs) gets a selector
// above Swagger UI; choosing a part loads that part's document.
window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui");
  var parts = JSON.parse(el.dataset.openapiParts || "{}");
  var names = Object.keys(parts);
  window.ui = SwaggerUIBundle({
    url: names.length ? parts[names[0]] : el.dataset.openapiUrl,
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
  if (names.length) {
    var select = document.createElement("select");
    select.id = "openapi-part";
    select.setAttribute("aria-label", "API");
    names.forEach(function (name) {
      var option = document.createElement("option");
      option.value = parts[name];
      option.textContent = name;
      select.appendChild(option);
    });
    select.addEventListener("change", function () {
      window.ui.specActions.updateUrl(select.value);
      window.ui.specActions.download(select.value);
    });
    el.parentNode.insertBefore(select, el);
  }
});
