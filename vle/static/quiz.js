/* Quiz attempts: save every answer in the background the moment it is given,
 * show the save state (in a polite live region) and which questions are
 * answered, and count the time down. The page works without this file: the
 * Save, Next, Previous and Submit buttons post the answers.
 *
 * The timer's text changes every second but is not live; screen readers hear
 * it only at 10 minutes and 1 minute left, and when the time is up.
 */
(function () {
  "use strict";

  var form = document.getElementById("attempt-form");
  if (!form) { return; }

  var state = document.getElementById("save-state");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var answerUrl = form.getAttribute("data-answer-url").replace(/0$/, "");
  var flagUrl = form.getAttribute("data-flag-url").replace(/0$/, "");
  var resultUrl = form.getAttribute("data-result-url");
  var TEXT_DELAY = 800;        // ms of quiet typing before a text answer is saved
  var SLOW = 400;              // ms before "Saving…" is shown at all
  var MAX_RETRY = 30000;

  var pending = {};            // question id -> true while its latest value is unsaved
  var inFlight = {};           // question id -> true while a request is out
  var timers = {};             // question id -> debounce timer
  var retryDelay = {};         // question id -> next retry delay
  var slowTimer = null;
  var closed = false;
  var submitting = false;

  function say(key, cssClass) {
    if (!state) { return; }
    var text = state.getAttribute("data-" + key) || "";
    if (state.textContent !== text) { state.textContent = text; }
    state.className = "save-state" + (cssClass ? " " + cssClass : "");
  }

  function anyPending() {
    for (var id in pending) { if (pending[id]) { return true; } }
    return false;
  }

  function section(id) { return form.querySelector("[data-question='" + id + "']"); }

  function valueOf(sec) {
    var id = sec.getAttribute("data-question");
    var type = sec.getAttribute("data-type");
    var name = "q" + id;
    var i;
    if (type === "single_choice" || type === "true_false") {
      var checked = sec.querySelector("input[name='" + name + "']:checked");
      return checked ? checked.value : null;
    }
    if (type === "multiple_choice") {
      var boxes = sec.querySelectorAll("input[name='" + name + "']:checked");
      var chosen = [];
      for (i = 0; i < boxes.length; i++) { chosen.push(boxes[i].value); }
      return chosen.length ? chosen : null;
    }
    if (type === "matching") {
      var selects = sec.querySelectorAll("select");
      var pairs = {};
      var any = false;
      for (i = 0; i < selects.length; i++) {
        var stem = selects[i].name.slice(name.length + 1);
        pairs[stem] = selects[i].value || null;
        if (selects[i].value) { any = true; }
      }
      return any ? pairs : null;
    }
    var field = sec.querySelector("[name='" + name + "']");
    if (!field) { return null; }
    return field.value.trim() ? field.value : null;
  }

  function markAnswered(id, answered) {
    var item = document.querySelector("[data-nav-question='" + id + "']");
    if (!item) { return; }
    item.className = answered ? "answered" : "unanswered";
    var label = item.querySelector(".nav-state");
    if (label) {
      label.textContent = label.getAttribute(answered ? "data-answered" : "data-unanswered");
    }
  }

  function showError(id, message) {
    var sec = section(id);
    if (!sec) { return; }
    var box = sec.querySelector(".error");
    if (!message) {
      if (box) { box.parentNode.removeChild(box); }
      sec.classList.remove("question-error");
      return;
    }
    if (!box) {
      box = document.createElement("p");
      box.className = "error";
      box.id = "qe-" + id;
      box.setAttribute("role", "alert");
      var text = document.getElementById("qt-" + id);
      text.parentNode.insertBefore(box, text.nextSibling);
    }
    box.textContent = message;
    sec.classList.add("question-error");
  }

  function settle() {
    if (anyPending()) { return; }
    clearTimeout(slowTimer);
    slowTimer = null;
    say("saved");
  }

  function goToResult() {
    closed = true;
    say("closed", "failed");
    setTimeout(function () { window.location.assign(resultUrl); }, 1500);
  }

  function save(id, keepalive) {
    if (closed || submitting) { return; }
    clearTimeout(timers[id]);
    pending[id] = true;
    if (inFlight[id]) { return; }   // sent again when the request out now returns
    inFlight[id] = true;
    var value = valueOf(section(id));
    if (!slowTimer) { slowTimer = setTimeout(function () { if (anyPending()) { say("saving"); } }, SLOW); }
    pending[id] = false;
    fetch(answerUrl + id, {
      method: "PUT",
      credentials: "same-origin",
      redirect: "manual",        // signed out: the redirect to /login is not a save
      keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify({ answer: value })
    }).then(function (response) {
      inFlight[id] = false;
      if (response.type === "opaqueredirect" || response.status === 401) {
        pending[id] = true;      // signed out: sent again on the next change after signing in
        say("refused", "failed");
        return;
      }
      if (response.ok) {
        retryDelay[id] = 0;
        showError(id, "");
        markAnswered(id, value !== null);
        if (pending[id]) { save(id); } else { settle(); }
        return;
      }
      if (response.status === 409) { goToResult(); return; }
      if (response.status >= 500 || response.status === 429) { throw new Error("retry"); }
      return response.json().then(function (body) {
        showError(id, body && body.error ? body.error.message : state.getAttribute("data-refused"));
        say("refused", "failed");
      }, function () {
        showError(id, state.getAttribute("data-refused"));
        say("refused", "failed");
      });
    }).catch(function () {
      inFlight[id] = false;
      pending[id] = true;
      say("retry", "failed");
      var delay = Math.min(MAX_RETRY, (retryDelay[id] || 500) * 2);
      retryDelay[id] = delay;
      setTimeout(function () { if (pending[id]) { save(id); } }, delay);
    });
  }

  function questionOf(target) {
    var sec = target.closest ? target.closest("[data-question]") : null;
    return sec ? sec.getAttribute("data-question") : null;
  }

  function markFlagged(id, flagged) {
    var mark = document.querySelector("[data-nav-question='" + id + "'] .nav-flag");
    if (mark) { mark.hidden = !flagged; }
  }

  // "Flag for later": saved at once, as an answer is, and tried again (the box's
  // state then) while there is no connection; the box keeps its state whatever
  // happens, and the page's next post carries it anyway.
  var flagRetry = {};          // question id -> timer of the next try
  function saveFlag(id, box, delay) {
    clearTimeout(flagRetry[id]);
    if (closed || submitting) { return; }
    var flagged = box.checked;
    fetch(flagUrl + id, {
      method: "PUT",
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify({ flagged: flagged })
    }).then(function (response) {
      if (response.ok) { markFlagged(id, flagged); settle(); return; }
      if (response.status === 409) { goToResult(); return; }
      if (response.status >= 500 || response.status === 429) { throw new Error("retry"); }
      say("refused", "failed");
    }).catch(function () {
      say("retry", "failed");
      var next = Math.min(MAX_RETRY, (delay || 500) * 2);
      flagRetry[id] = setTimeout(function () { saveFlag(id, box, next); }, next);
    });
  }

  form.addEventListener("change", function (event) {
    var id = questionOf(event.target);
    if (!id) { return; }
    if (event.target.name === "flag") { saveFlag(id, event.target); return; }
    save(id);
  });

  // An essay's word count, said again (politely) once typing pauses, and that
  // the answer is at its length limit when it is. A word is a run of non-space
  // with a letter or digit in any alphabet (a lone dash is none), as the server counts.
  var WORDS_DELAY = 1000;
  var wordTimers = {};
  var WORDY = /[\p{L}\p{N}]/u;
  function countWords(field) {
    var out = document.getElementById("qw-" + questionOf(field));
    if (!out) { return; }
    var words = field.value.split(/\s+/).filter(function (w) { return WORDY.test(w); }).length;
    var full = field.maxLength > 0 && field.value.length >= field.maxLength;
    var text = out.getAttribute(full ? "data-full" : "data-words").replace("{n}", String(words));
    if (out.textContent !== text) { out.textContent = text; }
  }
  var essays = form.querySelectorAll("textarea");
  for (var e = 0; e < essays.length; e++) {
    countWords(essays[e]);
    var shown = document.getElementById("qw-" + questionOf(essays[e]));
    if (shown) { shown.hidden = false; }
  }
  form.addEventListener("input", function (event) {
    if (event.target.tagName !== "TEXTAREA") { return; }
    var field = event.target;
    var id = questionOf(field);
    clearTimeout(wordTimers[id]);
    wordTimers[id] = setTimeout(function () { countWords(field); }, WORDS_DELAY);
  });

  form.addEventListener("input", function (event) {
    var id = questionOf(event.target);
    var tag = event.target.tagName;
    if (!id || (tag !== "TEXTAREA" && event.target.type !== "text")) { return; }
    pending[id] = true;
    clearTimeout(timers[id]);
    timers[id] = setTimeout(function () { save(id); }, TEXT_DELAY);
  });

  form.addEventListener("submit", function () {
    // The post carries every answer on the page; background saves would only race it.
    submitting = true;
    for (var id in timers) { clearTimeout(timers[id]); }
  });

  // Leaving with a text answer still waiting for its quiet moment: send it now.
  window.addEventListener("pagehide", function () {
    if (submitting) { return; }
    for (var id in timers) {
      if (pending[id] && !inFlight[id]) { save(id, true); }
    }
  });

  // ------------------------------------------------------------------ timer
  var timer = document.getElementById("quiz-timer");
  if (timer) {
    var timerText = document.getElementById("quiz-timer-text");
    var alertBox = document.getElementById("quiz-timer-alert");
    var deadline = Date.parse(timer.getAttribute("data-deadline"));
    var skew = Date.parse(timer.getAttribute("data-now")) - Date.now();
    var announced = {};
    var label = state.getAttribute("data-time-left");
    var lastLeft = null;

    var announce = function (key) {
      if (announced[key]) { return; }
      announced[key] = true;
      alertBox.textContent = state.getAttribute("data-" + key);
    };

    var tick = function () {
      var left = Math.max(0, Math.ceil((deadline - (Date.now() + skew)) / 1000));
      var minutes = Math.floor(left / 60);
      var seconds = left % 60;
      timerText.textContent = label + " " + minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
      timer.classList.toggle("low", left <= 60);
      // Announce only on crossing a threshold while the page is open.
      if (lastLeft !== null) {
        if (lastLeft > 600 && left <= 600) { announce("minutes-10"); }
        if (lastLeft > 60 && left <= 60) { announce("minutes-1"); }
      }
      lastLeft = left;
      if (left <= 0) {
        clearInterval(interval);
        if (closed || submitting) { return; }
        announce("timeup");
        var action = document.createElement("input");
        action.type = "hidden";
        action.name = "action";
        action.value = "timeup";
        form.appendChild(action);
        submitting = true;
        form.submit();
      }
    };
    var interval = setInterval(tick, 1000);
    tick();
  }

  say("saved");
})();
