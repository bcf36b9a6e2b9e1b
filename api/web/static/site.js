// claimdesk: small enhancements of pages that work without JavaScript. Validation runs on the
// server (/claim/validate, the same code and messages as the plain form and the API); this
// script only shows its answers while the claimant types.
(function () {
  "use strict";

  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // Copy buttons and print on the confirmation page.
  var live = document.getElementById("copied");
  document.querySelectorAll("button.copy").forEach(function (b) {
    if (!navigator.clipboard) return;
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        if (live) live.textContent = document.documentElement.lang === "en" ? "Copied." : "복사했습니다.";
      });
    });
  });
  document.querySelectorAll("button.print").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });

  // Amounts in won: thousands separators once the field is left.
  function formatWon(input) {
    var raw = input.value.replace(/[,\s원₩]/g, "");
    if (/^\d+$/.test(raw)) input.value = Number(raw).toLocaleString("en-US");
  }
  document.querySelectorAll("input.won").forEach(function (i) {
    i.addEventListener("blur", function () { formatWon(i); });
  });

  // Evidence: a file over the limit is refused before it is sent (the server checks again).
  var file = document.getElementById("f-evidence");
  if (file) {
    file.form.addEventListener("submit", function (e) {
      var f = file.files && file.files[0];
      var err = document.getElementById("e-evidence");
      if (f && f.size > Number(file.getAttribute("data-max"))) {
        e.preventDefault();
        err.textContent = file.getAttribute("data-too-large");
        file.setAttribute("aria-invalid", "true");
        file.focus();
      }
    });
  }

  var form = document.getElementById("claimform");
  if (!form) return;

  // The claim is sent once: after the final submit, the form sends nothing more (a second tap
  // on a slow network would replace the answer that shows the access code). The button is
  // disabled only once the submission has its value (a disabled button sends none). Without
  // JavaScript, a second press finds the claim and shows the same code.
  var sent = false;
  form.addEventListener("submit", function (e) {
    if (sent) { e.preventDefault(); return; }
    var by = e.submitter;
    if (!by || by.id !== "submit-claim") return;
    sent = true;
    setTimeout(function () { by.disabled = true; }, 0);
  });
  // A page restored from the history (back after the confirmation) can be used again.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    sent = false;
    var b = document.getElementById("submit-claim");
    if (b) b.disabled = false;
  });

  // Validation as the claimant types.
  var step = form.getAttribute("data-step");
  if (step === "review" || (step === "items" && !form.hasAttribute("data-editing"))) return;
  var touched = {};
  var timer = null;
  var seq = 0;

  function showErrors(errors) {
    var byId = {};
    errors.forEach(function (e) { byId[e.id] = e.message; });
    form.querySelectorAll(".field-error[id^='e-']").forEach(function (p) {
      var id = p.id.slice(2);
      if (!touched[id] && !p.textContent) return;
      var msg = touched[id] ? (byId[id] || "") : p.textContent;
      if (p.textContent !== msg) p.textContent = msg;
      var input = document.getElementById("f-" + id);
      var wrap = p.closest(".field");
      if (input) {
        if (msg) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
      }
      if (wrap) wrap.classList.toggle("has-error", !!msg);
    });
  }

  function showDecision(d) {
    var box = document.getElementById(step === "check" ? "check-result" : "item-result");
    if (!box) return;
    if (!d) { box.textContent = ""; box.className = "result"; return; }
    box.className = "result result-" + d.status;
    box.textContent = "";
    var p = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = d.label + " ";
    p.appendChild(strong);
    p.appendChild(document.createTextNode(d.text));
    box.appendChild(p);
  }

  // data-pending is set while a check is scheduled or under way (tests wait for it to go).
  function done(mine) { if (mine === seq) form.removeAttribute("data-pending"); }

  function validate() {
    var data = new FormData(form);
    data.delete("action");
    var mine = ++seq;
    fetch("/claim/validate", { method: "POST", body: new URLSearchParams(data), credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (res) {
        if (!res || mine !== seq) return done(mine);
        showErrors(res.errors || []);
        var ready = step === "check" ? (touched.check_target && touched.check_at) : touched.occurred_at;
        if (step !== "contact" && ready) showDecision(res.decision);
        done(mine);
      })
      .catch(function () { done(mine); /* the plain form still validates on submit */ });
  }

  function touch(e) {
    var t = e.target;
    if (!t.name || t.name === "csrf" || t.name === "draft") return;
    touched[t.name] = true;
    if (t.classList.contains("won") && e.type !== "input") formatWon(t);
    clearTimeout(timer);
    form.setAttribute("data-pending", "1");
    timer = setTimeout(validate, e.type === "input" ? 600 : 50);
  }
  form.addEventListener("change", touch);
  form.addEventListener("focusout", function (e) { if (e.target.value) touch(e); });
  form.addEventListener("input", function (e) { if (touched[e.target.name]) touch(e); });
  // Fields the server already judged are shown as judged.
  form.querySelectorAll(".field-error[id^='e-']").forEach(function (p) { if (p.textContent) touched[p.id.slice(2)] = true; });
})();
