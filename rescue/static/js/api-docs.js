// Swagger UI for /api/v1/docs, started from a file so the page needs no inline script under the CSP.
window.SwaggerUIBundle({ url: "openapi.json", dom_id: "#ui", deepLinking: true });
