/**
 * The UI's only general script, a progressive enhancement: everything works without it.
 * - `select[data-autosubmit]` submits its form on change (the form still has a submit button).
 * - `form[data-confirm]` asks before submitting (deletions).
 */
export const APP_JS = `(() => {
  document.addEventListener('change', (event) => {
    const target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute('data-autosubmit') && target.form) target.form.requestSubmit();
  });
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });
})();
`;
