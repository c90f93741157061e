// Swagger UI for /api/v1/docs, started from a file so the page needs no inline script under the CSP.
// docExpansion "none": every tag is listed (collapsed; click to open). With all operations expanded the list has
// more than 150 entries and Swagger UI 5 virtualises it, drawing only what is in view: a printed or captured page
// then ends after the second tag.
window.ui = window.SwaggerUIBundle({ url: "openapi.json", dom_id: "#ui", deepLinking: true, docExpansion: "none", filter: true });
