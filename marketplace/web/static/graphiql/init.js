// Boots GraphiQL for the data bank (kept out of the HTML so the page runs under a strict CSP).
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint");
  var params = new URLSearchParams(window.location.search);

  function fetcher(graphQLParams, options) {
    var headers = {
      "Content-Type": "application/json",
      Accept: "application/json",
      // The endpoint's CSRF rule: a header a cross-site form cannot send.
      "GraphQL-Preflight": "1",
    };
    var extra = (options && options.headers) || {};
    Object.keys(extra).forEach(function (name) {
      headers[name] = extra[name];
    });
    return fetch(endpoint, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(graphQLParams),
      credentials: "same-origin",
    }).then(function (response) {
      return response.json();
    });
  }

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: params.get("query") || undefined,
      // Put {"Authorization": "Bearer <JWT or dbk_ API key>"} in the Headers tab.
      isHeadersEditorEnabled: true,
      // Tokens stay in this tab's memory, never in localStorage.
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: "headers",
    })
  );
})();
