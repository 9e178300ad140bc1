/* GraphiQL for the wholesale gateway: the pinned files under /assets/vendor/, our settings, nothing inline.
 *
 * - `#token=<jwt>` in the address (the link `make run` logs) becomes the `Authorization: Bearer` header, and the
 *   fragment is removed from the address bar at once. A fragment is never sent to a server, so the token is in no
 *   access log. The headers are kept in this browser (localStorage) for the next visit and reloads.
 * - Queries and mutations are POSTed to this page's own address; subscriptions use graphql-transport-ws on the
 *   same address, the headers going in the `connection_init` payload (where the gateway reads the token).
 * - The query, variables and operation name are kept in the address (`?query=…`), so a reload or a shared link
 *   opens the same document: the gateway serves this page to a browser navigating to such an address.
 * - While the schema could not be fetched (no token yet), editing the headers fetches it again: pasting a token
 *   is enough for the Docs pane and autocompletion.
 */
(function () {
  'use strict';

  var h = React.createElement;
  var endpoint = location.origin + location.pathname;
  var socket = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + location.pathname;

  function takeToken() {
    if (!location.hash) {
      return null;
    }
    var token = new URLSearchParams(location.hash.slice(1)).get('token');
    history.replaceState(history.state, '', location.pathname + location.search);
    return token ? token.trim() : null;
  }

  // The headers, kept by us in this browser: GraphiQL keeps them per tab, and a reload with `?query=…` would open
  // a tab without them.
  var HEADERS_KEY = 'wholesale-gateway:graphiql:headers';

  function storedHeaders() {
    try {
      return localStorage.getItem(HEADERS_KEY);
    } catch (e) {
      return null;
    }
  }

  function storeHeaders(text) {
    try {
      localStorage.setItem(HEADERS_KEY, text);
    } catch (e) {
      // storage disabled: the headers last as long as the page
    }
  }

  var token = takeToken();
  var headers = token ? JSON.stringify({ Authorization: 'Bearer ' + token }, null, 2) : storedHeaders();
  if (token) {
    storeHeaders(headers);
  }
  var search = new URLSearchParams(location.search);
  var kept = {
    query: search.get('query'),
    variables: search.get('variables'),
    operationName: search.get('operationName')
  };

  function keep(name) {
    return function (value) {
      kept[name] = value;
      var next = new URLSearchParams();
      Object.keys(kept).forEach(function (key) {
        if (kept[key]) {
          next.set(key, kept[key]);
        }
      });
      var query = next.toString();
      history.replaceState(history.state, '', location.pathname + (query ? '?' + query : ''));
    };
  }

  // The schema context's `introspect` while the schema could not be loaded, else null.
  var retry = null;
  var retryTimer = 0;

  function SchemaRetry() {
    var schema = GraphiQL.React.useSchemaContext({ nonNull: true });
    var failed = !schema.schema && !schema.isFetching && Boolean(schema.fetchError);
    var introspect = schema.introspect;
    React.useEffect(function () {
      retry = failed ? introspect : null;
    }, [failed, introspect]);
    return null;
  }

  function onEditHeaders(text) {
    storeHeaders(text);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(function () {
      if (retry) {
        retry();
      }
    }, 400);
  }

  var props = {
    fetcher: GraphiQL.createFetcher({ url: endpoint, subscriptionUrl: socket }),
    shouldPersistHeaders: true,
    defaultQuery: '# The gateway answers as the token in the Headers tab.\n{\n  viewer {\n    orgId\n    orgKind\n  }\n}\n',
    defaultHeaders: '{\n  "Authorization": "Bearer <token>"\n}',
    onEditQuery: keep('query'),
    onEditVariables: keep('variables'),
    onEditOperationName: keep('operationName'),
    onEditHeaders: onEditHeaders,
    toolbar: { additionalComponent: SchemaRetry }
  };
  if (headers) {
    props.headers = headers;
  }
  if (token) {
    props.defaultEditorToolsVisibility = 'headers';
  }
  Object.keys(kept).forEach(function (key) {
    if (kept[key]) {
      props[key] = kept[key];
    }
  });

  ReactDOM.createRoot(document.getElementById('graphiql')).render(h(GraphiQL, props));
}());
