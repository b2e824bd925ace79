// Copy buttons: <button data-copy-target="element-id">. Without JS (or clipboard access) the text stays selectable.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-target]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copyTarget);
  if (!source) return;
  const text = source.textContent;
  const done = (label) => {
    const original = button.dataset.label || button.textContent;
    button.dataset.label = original;
    button.textContent = label;
    setTimeout(() => { button.textContent = original; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(() => done("Copied"), () => selectText(source, done));
  } else {
    selectText(source, done);
  }
});
function selectText(element, done) {
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  done(document.execCommand && document.execCommand("copy") ? "Copied" : "Selected: press Ctrl+C");
}
