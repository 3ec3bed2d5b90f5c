// Copy buttons beside one-time links: shown only when scripts run (the link's field is selectable
// without them). The Clipboard API needs a secure origin; elsewhere the older copy command serves.
for (const button of document.querySelectorAll('button[data-copy]')) {
  const field = document.getElementById(button.dataset.copy);
  if (!field) continue;
  button.hidden = false;
  button.addEventListener('click', async () => {
    let copied = false;
    try {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    } catch {
      field.select();
      copied = document.execCommand('copy');
    }
    button.textContent = copied ? 'Copied' : 'Select and copy';
    if (!copied) field.select();
  });
}
