// Live character count for the edit boxes. An approximation of bot/fit.py's count (URLs
// weigh a fixed amount, remote mentions count as local, graphemes where the platform
// counts them): the server recounts on save and its count is the one that decides.
(function () {
  "use strict";
  var URL = /(^|[^\p{L}\p{N}_@#$])(https?:\/\/[^\s<>"]+)/giu;
  var MENTION = /(^|[^\w\/=])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)@[\p{L}\p{N}_]+(?:[.-]+[\p{L}\p{N}_]+)*/giu;
  var TRAILING = /[()?!*"'<>;:=,.$%\[\]~&|@]+$/u;
  var segmenter = window.Intl && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;

  function length(text, graphemes) {
    if (graphemes && segmenter) {
      var n = 0;
      for (var it = segmenter.segment(text)[Symbol.iterator](), s = it.next(); !s.done; s = it.next()) n++;
      return n;
    }
    return Array.from(text).length; // code points, like Python's len()
  }

  function measure(box) {
    var text = box.value.replace(/\r\n/g, "\n").trim();
    var weight = parseInt(box.dataset.urlWeight, 10);
    if (weight) {
      text = text.replace(URL, function (_, before, url) {
        var tail = (url.match(TRAILING) || [""])[0];
        return before + "x".repeat(weight) + tail;
      });
    }
    if (box.dataset.mentionsLocal === "1") {
      text = text.replace(MENTION, function (_, before, user) { return before + "@" + user; });
    }
    if (box.dataset.little === "1") {
      // LinkedIn's little text: each reserved character goes out escaped, counted in UTF-16
      // units (a hashtag goes out as a longer template: the server's count decides).
      text = text.replace(/[\\|{}@\[\]()<>#*_~]/g, "\\$&");
      return text.length;
    }
    return length(text, box.dataset.graphemes === "1") + (parseInt(box.dataset.spoiler, 10) || 0);
  }

  function update(box) {
    var out = document.getElementById(box.dataset.count);
    if (!out) return;
    var n = measure(box);
    var limit = parseInt(box.dataset.limit, 10);
    out.textContent = (limit ? n + "/" + limit : String(n)) + " characters as " + box.dataset.kind +
      " counts them (checked again when you save)" + (limit && n > limit ? ": too long" : "") + ".";
    out.classList.toggle("over", Boolean(limit && n > limit));
  }

  document.addEventListener("input", function (event) {
    var box = event.target;
    if (box instanceof HTMLTextAreaElement && box.dataset.count) update(box);
  });
  // A refused edit comes back in the box: its count, not the saved text's, is the one shown.
  document.querySelectorAll("textarea[data-count][data-unsaved]").forEach(update);
})();
