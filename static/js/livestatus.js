// Live deployment status for lists, badges and dashboards. Every element with
// data-deployment-status="<id>" follows that deployment's status; the page opts in with an element
// carrying data-org-live="/ws/orgs/<slug>/" ({% org_live_status org %}). Each change is also
// dispatched as a "deploynix:deployment-status" DOM event, so an htmx panel can refresh itself
// (hx-trigger="deploynix:deployment-status from:document") when a deployment it does not show yet starts.
(function () {
  "use strict";

  var CLOSE_ACCESS_REVOKED = 4403;
  // Too many live sockets for this user or organization (tenancy/consumers.py): retry slowly.
  var CLOSE_TOO_MANY_SOCKETS = 4429;
  var TOO_MANY_RETRY_MS = 30000;

  function label(status) { return (status.charAt(0).toUpperCase() + status.slice(1)).replace(/_/g, " "); }

  function applyStatus(frame) {
    var id = String(frame.deployment_id);
    document.querySelectorAll('[data-deployment-status="' + id + '"]').forEach(function (badge) {
      badge.className = "badge " + frame.status;
      badge.textContent = label(frame.status);
    });
    document.dispatchEvent(new CustomEvent("deploynix:deployment-status", { detail: frame }));
  }

  function follow(element) {
    var delay = 500;
    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + window.location.host + element.getAttribute("data-org-live"));
      element.setAttribute("data-connection", "connecting");
      socket.onopen = function () { delay = 500; element.setAttribute("data-connection", "open"); };
      socket.onmessage = function (event) {
        var frame = JSON.parse(event.data);
        if (frame.type === "deployment.status") { applyStatus(frame); }
      };
      socket.onclose = function (event) {
        if (event.code === CLOSE_ACCESS_REVOKED) { element.setAttribute("data-connection", "closed"); return; }
        element.setAttribute("data-connection", "reconnecting");
        if (event.code === CLOSE_TOO_MANY_SOCKETS) { delay = TOO_MANY_RETRY_MS; }
        setTimeout(connect, delay);  // back off: 0.5 s doubling to 5 s
        delay = Math.min(delay * 2, 5000);
      };
    }
    connect();
  }

  window.DeploynixLive = window.DeploynixLive || {};
  window.DeploynixLive.applyStatus = applyStatus;

  function start() {
    var element = document.querySelector("[data-org-live]");
    if (element) { follow(element); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
