// Live deployment log. Attaches to <div data-live-log data-ws="/ws/deployments/12/" data-after="0">.
// The newest stored lines may already be rendered (data-after = their last seq); the socket sends
// the rest, then live lines, each already split by the server into [classes, text] segments (its
// ANSI colours). Every segment is inserted with textContent (never innerHTML). Received lines are
// drawn once per animation frame, the box keeps the last data-max-lines of them, and the button
// before it ([data-log-earlier], the URL of deployments/views/log.py) fetches earlier pages by
// seq. data-last-seq is the last seq drawn, data-first-seq the first one in the box.
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
    var self = this, earlier = box.previousElementSibling;
    this.box = box;
    this.lastSeq = parseInt(box.getAttribute("data-after") || "0", 10) || 0;
    // The box keeps at most `cap` lines: the oldest go as new ones come ("Show earlier lines"
    // brings them back, and raises the cap by what it brought: the reader asked for those).
    this.cap = parseInt(box.getAttribute("data-max-lines") || "2000", 10) || 2000;
    this.pending = [];  // received, drawn at the next animation frame
    this.frameRequested = false;
    this.earlier = earlier && earlier.hasAttribute("data-log-earlier") ? earlier : null;
    if (this.earlier) { this.earlier.addEventListener("click", function () { self.loadEarlier(); }); }
    this.setFirst(parseInt(box.getAttribute("data-first-seq") || "1", 10) || 1);
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
    var self = this;
    lines.forEach(function (line) {
      if (line.seq <= self.lastSeq) { return; }  // already shown (replay after a reconnect)
      self.pending.push(line);
      self.lastSeq = line.seq;  // a reconnect resumes after it, drawn or not yet
    });
    if (this.pending.length > this.cap) {
      // More than the box keeps before the next frame (a flood, or a hidden tab, which gets no
      // frames): only the newest can stay, and what the box shows now goes with the rest.
      this.pending.splice(0, this.pending.length - this.cap);
      this.restart = true;
    }
    if (this.pending.length && !this.frameRequested) {
      this.frameRequested = true;
      window.requestAnimationFrame(function () { self.frameRequested = false; self.flush(); });
    }
  };

  // Draw every line received since the last frame in one DOM write, then trim to the cap.
  LiveLog.prototype.flush = function () {
    var box = this.box, lines = this.pending, fragment = document.createDocumentFragment();
    this.pending = [];
    if (!lines.length) { return; }
    // Follow new lines only while the reader is at the bottom; scrolling up pauses it. Decided
    // from where the box is now, not from the last scroll event (which may not have run yet).
    var follow = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
    if (this.restart) { box.textContent = ""; this.restart = false; }
    lines.forEach(function (line) { fragment.appendChild(lineElement(line)); });
    box.appendChild(fragment);
    this.trim(follow);
    box.setAttribute("data-last-seq", String(lines[lines.length - 1].seq));
    if (follow) { box.scrollTop = box.scrollHeight; }
  };

  LiveLog.prototype.trim = function (follow) {
    var box = this.box, extra = box.children.length - this.cap;
    if (extra > 0) {
      var height = follow ? 0 : box.scrollHeight, range = document.createRange();
      range.setStartBefore(box.firstElementChild);
      range.setEndAfter(box.children[extra - 1]);
      range.deleteContents();
      // A reader scrolled up keeps the lines they were reading in place.
      if (!follow) { box.scrollTop -= height - box.scrollHeight; }
    }
    if (box.firstElementChild) { this.setFirst(parseInt(box.firstElementChild.getAttribute("data-seq"), 10)); }
  };

  // The first seq in the box; "Show earlier lines" is offered while lines exist before it.
  LiveLog.prototype.setFirst = function (seq) {
    this.firstSeq = seq;
    this.box.setAttribute("data-first-seq", String(seq));
    if (this.earlier) { this.earlier.hidden = seq <= 1; }
  };

  LiveLog.prototype.loadEarlier = function () {
    var self = this, button = this.earlier;
    if (this.loading || this.firstSeq <= 1) { return; }
    this.loading = true;
    button.disabled = true;
    fetch(button.getAttribute("data-log-earlier") + "?before=" + this.firstSeq,
          { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (page) { self.prepend(page.lines); button.textContent = "Show earlier lines"; })
      .catch(function () { button.textContent = "Could not load earlier lines: try again"; })
      .then(function () { self.loading = false; button.disabled = false; });
  };

  // Put one page of earlier lines (oldest first, all before firstSeq) above the first line.
  LiveLog.prototype.prepend = function (lines) {
    var box = this.box, self = this, fragment = document.createDocumentFragment();
    lines = lines.filter(function (line) { return line.seq < self.firstSeq; });
    if (!lines.length) { this.setFirst(1); return; }
    lines.forEach(function (line) { fragment.appendChild(lineElement(line)); });
    var height = box.scrollHeight;
    box.insertBefore(fragment, box.firstElementChild);
    box.scrollTop += box.scrollHeight - height;  // the reader's lines stay where they were
    this.cap = Math.max(this.cap, box.children.length);
    this.setFirst(lines[0].seq);
  };

  function start() {
    document.querySelectorAll("[data-live-log]").forEach(function (box) {
      if (!box.liveLog) { box.liveLog = new LiveLog(box); }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();
