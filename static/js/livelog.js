// Live deployment log. Attaches to <div data-live-log data-ws="/ws/deployments/12/" data-after="0">.
// Stored lines may already be rendered (data-after = their last seq); the socket sends the rest,
// then live lines, each already split by the server into [classes, text] segments (its ANSI
// colours). Every segment is inserted with textContent (never innerHTML), and the last seq shown
// is kept in data-last-seq, which is where a reconnect resumes.
(function () {
  "use strict";

  // As deployments/templatetags/live.py: stderr is not coloured (git writes progress there).
  var STREAM_CLASSES = { out: "ln", err: "ln", info: "ln step" };
  var CLOSE_ACCESS_REVOKED = 4403;
  // Too many live sockets for this user or organization (tenancy/consumers.py): retry slowly.
  var CLOSE_TOO_MANY_SOCKETS = 4429;
  var TOO_MANY_RETRY_MS = 30000;
  var FINISHED = ["succeeded", "failed", "cancelled", "timed_out", "rejected", "expired", "skipped"];

  function lineElement(line) {
    var row = document.createElement("span");
    row.className = STREAM_CLASSES[line.stream] || "ln";
    row.setAttribute("data-seq", String(line.seq));
    if (line.server) {
      var server = document.createElement("span");
      server.className = "srv";
      server.textContent = line.server;
      row.appendChild(server);
    }
    var body = document.createElement("span");
    body.className = "tx";
    // [classes, text] pairs parsed by the server (deployments/ansi.py frame_segments).
    line.segments.forEach(function (segment) {
      if (!segment[0]) { body.appendChild(document.createTextNode(segment[1])); return; }
      var span = document.createElement("span");
      span.className = segment[0];
      span.textContent = segment[1];
      body.appendChild(span);
    });
    row.appendChild(body);
    return row;
  }

  function label(status) { return status.charAt(0).toUpperCase() + status.slice(1); }

  // Step badges (data-step-status="<deployment>/<step>/<server>"), a new row in the steps table
  // (tbody data-deployment-steps="<deployment>") for a step the page did not know yet, and the
  // "now running" text (data-deployment-progress="<deployment>").
  function applyStep(frame) {
    var key = frame.deployment_id + "/" + frame.step + "/" + (frame.server || "");
    var badges = document.querySelectorAll('[data-step-status="' + key + '"]');
    if (!badges.length) { badges = [addStepRow(frame, key)].filter(Boolean); }
    badges.forEach(function (badge) {
      badge.className = "badge " + frame.status;
      badge.textContent = label(frame.status);
      fillStepCells(badge.closest("tr"), frame);
    });
    updateProgress(frame.deployment_id);
    // The servers panel (phases, balancer state) refreshes itself on this event.
    document.dispatchEvent(new CustomEvent("deploynix:step-status", { detail: frame }));
    if (frame.status !== "running") { return; }
    document.querySelectorAll('[data-deployment-progress="' + frame.deployment_id + '"]').forEach(function (el) {
      el.textContent = frame.step + (frame.server ? " on " + frame.server : "");
    });
  }

  // The step row's Duration and Exit cells, from the frame (its duration is formatted by the server).
  function fillStepCells(row, frame) {
    if (!row) { return; }
    var duration = row.querySelector("[data-step-duration]"), exit = row.querySelector("[data-step-exit]");
    if (duration && frame.status !== "running") { duration.textContent = frame.duration || ""; }
    if (exit) { exit.textContent = frame.exit_code === null || frame.exit_code === undefined ? "" : String(frame.exit_code); }
  }

  // The caption above the steps, once the deployment has finished (it named the last running step).
  var FINISHED_CAPTIONS = {
    succeeded: "Finished: every step succeeded.",
    cancelled: "Cancelled.",
    timed_out: "Stopped: the deployment ran out of time.",
    rejected: "Rejected: it never ran.",
    expired: "The approval expired: it never ran.",
    skipped: "Skipped: the commit was already live (deploy with Force to build it again)."
  };
  function applyFinishedCaption(frame) {
    var text = frame.status === "failed"
      ? "Failed" + (frame.failed_step ? " at " + frame.failed_step : "") + "."
      : FINISHED_CAPTIONS[frame.status];
    if (!text) { return; }
    document.querySelectorAll('[data-deployment-progress="' + frame.deployment_id + '"]').forEach(function (el) {
      el.textContent = text;
    });
    if (frame.status !== "succeeded") { return; }
    document.querySelectorAll('[data-deployment-progressbar="' + frame.deployment_id + '"]').forEach(function (bar) {
      bar.value = bar.max;
    });
  }

  // <progress data-deployment-progressbar="<deployment>">: finished steps out of the expected total.
  function updateProgress(deploymentId) {
    var done = document.querySelectorAll(
      '[data-step-status^="' + deploymentId + '/"].succeeded, [data-step-status^="' + deploymentId + '/"].skipped').length;
    document.querySelectorAll('[data-deployment-progressbar="' + deploymentId + '"]').forEach(function (bar) {
      bar.value = Math.min(done, bar.max);
    });
  }

  function addStepRow(frame, key) {
    var body = document.querySelector('[data-deployment-steps="' + frame.deployment_id + '"]');
    if (!body) { return null; }
    var table = body.closest("table");
    var columns = table ? table.querySelectorAll("thead th").length : 3;
    var row = document.createElement("tr"), badge = document.createElement("span");
    [frame.step, frame.server || "\u2014"].forEach(function (text) {
      var cell = document.createElement("td");
      cell.textContent = text;
      row.appendChild(cell);
    });
    badge.setAttribute("data-step-status", key);
    row.appendChild(document.createElement("td")).appendChild(badge);
    ["data-step-duration", "data-step-exit"].forEach(function (name, i) {
      if (3 + i >= columns) { return; }
      var cell = document.createElement("td");
      cell.setAttribute(name, "");
      if (name === "data-step-exit") { cell.className = "mono"; }
      row.appendChild(cell);
    });
    body.appendChild(row);
    return badge;
  }

  function applyStatus(frame) {
    // livestatus.js owns the badge rules; it is loaded with this file by {% live_assets %}.
    if (window.DeploynixLive && window.DeploynixLive.applyStatus) { window.DeploynixLive.applyStatus(frame); }
  }

  function LiveLog(box) {
    this.box = box;
    this.lastSeq = parseInt(box.getAttribute("data-after") || "0", 10) || 0;
    this.delay = 500;
    this.stopped = false;
    box.setAttribute("data-last-seq", String(this.lastSeq));
    box.scrollTop = box.scrollHeight;  // open at the newest line
    this.connect();
  }

  LiveLog.prototype.url = function () {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + window.location.host + this.box.getAttribute("data-ws") + "?after=" + this.lastSeq;
  };

  LiveLog.prototype.connect = function () {
    var self = this;
    var socket = new WebSocket(this.url());
    this.socket = socket;
    this.box.setAttribute("data-connection", "connecting");
    socket.onopen = function () { self.delay = 500; self.box.setAttribute("data-connection", "open"); };
    socket.onmessage = function (event) { self.receive(JSON.parse(event.data)); };
    socket.onclose = function (event) {
      if (event.code === CLOSE_ACCESS_REVOKED) { self.stopped = true; }
      self.box.setAttribute("data-connection", self.stopped ? "closed" : "reconnecting");
      if (!self.stopped) {
        if (event.code === CLOSE_TOO_MANY_SOCKETS) { self.delay = TOO_MANY_RETRY_MS; }
        // Back off (0.5 s doubling to 5 s) so a restarting server is not hammered.
        setTimeout(function () { self.connect(); }, self.delay);
        self.delay = Math.min(self.delay * 2, 5000);
      }
    };
  };

  LiveLog.prototype.receive = function (frame) {
    if (frame.type === "log.batch") { this.append(frame.lines); }
    else if (frame.type === "deployment.status") {
      this.box.setAttribute("data-status", frame.status);
      if (FINISHED.indexOf(frame.status) !== -1) {
        this.finished(frame.deployment_id);
        applyFinishedCaption(frame);
      }
      applyStatus(frame);
    } else if (frame.type === "step.status") { applyStep(frame); }
  };

  // Controls that only make sense while it runs (Cancel) carry data-live-until-finished="<id>".
  LiveLog.prototype.finished = function (deploymentId) {
    this.box.setAttribute("data-finished", "");
    document.querySelectorAll('[data-live-until-finished="' + deploymentId + '"]').forEach(function (el) {
      el.hidden = true;
    });
  };

  LiveLog.prototype.append = function (lines) {
    // Follow new lines only while the reader is at the bottom; scrolling up pauses it. Decided
    // from where the box is now, not from the last scroll event (which may not have run yet).
    var box = this.box, follow = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
    var fragment = document.createDocumentFragment(), self = this;
    lines.forEach(function (line) {
      if (line.seq <= self.lastSeq) { return; }  // already shown (replay after a reconnect)
      fragment.appendChild(lineElement(line));
      self.lastSeq = line.seq;
    });
    this.box.appendChild(fragment);
    this.box.setAttribute("data-last-seq", String(this.lastSeq));
    if (follow) { box.scrollTop = box.scrollHeight; }
  };

  function start() {
    document.querySelectorAll("[data-live-log]").forEach(function (box) {
      if (!box.liveLog) { box.liveLog = new LiveLog(box); }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
