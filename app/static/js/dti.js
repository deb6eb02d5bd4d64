/* DTI Console: dd/mm/yyyy calendars on the console's own date inputs. */
$(function () {
  $('.dti_date input, .dti_datetime input').each(function () {
    var input = $(this);
    input.datepicker({format: 'dd/mm/yyyy', autoclose: true, weekStart: 1})
      .on('changeDate', function () {
        // Keep a time the user already typed after the date.
        var parts = (input.data('previous') || '').split(' ');
        if (input.closest('.dti_datetime').length && parts.length > 1) {
          input.val(input.val().split(' ')[0] + ' ' + parts[1]);
        }
      })
      .on('focus', function () { input.data('previous', input.val()); });
  });
});
