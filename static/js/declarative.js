// Behaviour declared with data attributes, because the Content-Security-Policy (script-src 'self')
// forbids inline event handlers: <form data-confirm="question"> asks before submitting,
// <select data-autosubmit> submits its form when changed. Without JavaScript the forms still work.
document.addEventListener("submit", (event) => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field.matches && field.matches("select[data-autosubmit]") && field.form) field.form.requestSubmit();
});
