'use strict';
// The demand form's dataset choice (apps.catalog.forms.DemandDatasetSelect): select2 searching
// the server by code and name, among the asked department's datasets once one is chosen.
// Choosing a dataset first fills in its department; choosing another department clears the
// dataset unless it was chosen here as one of that department's (the form refuses a dataset
// the asked department does not hold).
{
    const $ = django.jQuery;

    function init(element) {
        const provider = document.getElementById(element.dataset.providerField);
        let heldBy = null;  // the chosen dataset's department, when chosen here
        $(element).select2({
            ajax: {
                data: (params) => ({
                    term: params.term,
                    page: params.page,
                    provider: provider ? provider.value : ''
                })
            }
        });
        $(element).on('select2:select', (event) => {
            heldBy = String(event.params.data.provider);
            if (provider && !provider.value) {
                provider.value = heldBy;
            }
        });
        $(element).on('select2:clear', () => { heldBy = null; });
        if (provider) {
            provider.addEventListener('change', () => {
                if (element.value && heldBy !== provider.value) {
                    heldBy = null;
                    $(element).val(null).trigger('change');
                }
            });
        }
    }

    $(function() {
        $('.demand-dataset-search').not('[name*=__prefix__]').each((i, element) => init(element));
    });
}
