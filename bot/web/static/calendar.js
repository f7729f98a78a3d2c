// The calendar's drag and drop, over the plain forms that work without it: a post is
// dragged by its handle (pointer events: mouse, pen and touch alike) and dropped on a
// day, or, with the handle focused, the arrow keys pick a day and Enter drops it there.
// Either way the hidden #move-form is submitted, the server checks the move as it checks
// every other (windows, embargo, a time still to come) and the page says what happened.
(function () {
  "use strict";
  var form = document.getElementById("move-form");
  if (!form) return;
  var live = document.getElementById("calendar-live");
  var drag = null;
  var pick = null;

  function announce(text) { if (live) live.textContent = text; }
  function label(day) {
    var heading = day.querySelector("h2, h3");
    return heading ? heading.textContent.trim() : day.dataset.day;
  }
  function submit(id, day) {
    form.elements.post.value = id;
    form.elements.day.value = day.dataset.day;
    announce("Moving post " + id + " to " + label(day) + "…");
    form.submit();
  }
  function mark(day, on) { if (day) day.classList.toggle("over", on); }

  document.querySelectorAll(".grip").forEach(function (grip) { grip.hidden = false; });

  document.addEventListener("pointerdown", function (e) {
    var grip = e.target.closest && e.target.closest(".grip");
    if (!grip || e.button !== 0) return;
    var item = grip.closest("[data-post]");
    drag = { item: item, id: item.dataset.post, x: e.clientX, y: e.clientY, over: null, moved: false };
    grip.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  document.addEventListener("pointermove", function (e) {
    if (!drag) return;
    if (!drag.moved && Math.abs(e.clientX - drag.x) + Math.abs(e.clientY - drag.y) < 5) return;
    if (!drag.moved) {
      drag.moved = true;
      drag.item.classList.add("dragging");
      announce("Dragging post " + drag.id + ": drop it on a day.");
    }
    if (e.clientY < 40) window.scrollBy(0, -20);
    else if (e.clientY > window.innerHeight - 40) window.scrollBy(0, 20);
    var under = document.elementFromPoint(e.clientX, e.clientY);
    var day = under && under.closest("[data-day]");
    if (day !== drag.over) { mark(drag.over, false); drag.over = day; mark(day, true); }
  });
  function stop() {
    if (!drag) return;
    drag.item.classList.remove("dragging");
    mark(drag.over, false);
    drag = null;
  }
  document.addEventListener("pointerup", function () {
    var done = drag;
    stop();
    if (done && done.moved && done.over) submit(done.id, done.over);
  });
  document.addEventListener("pointercancel", stop);

  // The keyboard: arrows move a marked day, Enter drops, Escape (or leaving) cancels.
  function shift(iso, days) {
    var d = new Date(iso + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }
  function start(item) {
    var from = item.dataset.from && document.querySelector('[data-day="' + item.dataset.from + '"]');
    return from || document.querySelector(".day.today[data-day]") || document.querySelector("[data-day]");
  }
  function unpick() {
    if (!pick) return;
    mark(pick.day, false);
    pick.item.classList.remove("picking");
    pick = null;
  }
  document.addEventListener("keydown", function (e) {
    var grip = e.target.closest && e.target.closest(".grip");
    if (!grip) return;
    var item = grip.closest("[data-post]");
    var steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };
    if (e.key in steps) {
      e.preventDefault();
      if (!pick || pick.item !== item) {
        unpick();
        pick = { item: item, day: start(item) };
        item.classList.add("picking");
      }
      var next = document.querySelector('[data-day="' + shift(pick.day.dataset.day, steps[e.key]) + '"]');
      if (!next) {
        announce("That day is not on this page: use the calendar's Previous and Next links.");
        return;
      }
      mark(pick.day, false);
      pick.day = next;
      mark(pick.day, true);
      announce("Post " + item.dataset.post + ": " + label(pick.day) + ". Enter moves it there, Escape cancels.");
    } else if (e.key === "Enter" && pick && pick.item === item) {
      e.preventDefault();
      var day = pick.day;
      unpick();
      submit(item.dataset.post, day);
    } else if (e.key === "Escape" && pick) {
      unpick();
      announce("Move cancelled.");
    }
  });
  document.addEventListener("focusout", function (e) {
    if (pick && e.target.closest && e.target.closest(".grip")) { unpick(); }
  });
})();
