// claimdesk lawyers' workspace: small conveniences only; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // "Select all" on the claims list checks every row's box.
  var all = document.getElementById("select-all");
  if (all) {
    all.hidden = false;
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=ref]").forEach(function (box) { box.checked = all.checked; });
    });
  }
});
