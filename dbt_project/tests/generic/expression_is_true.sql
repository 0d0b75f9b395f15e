{# Fails on every row where the expression is false (dbt_utils cannot be fetched offline). #}
{% test expression_is_true(model, expression, column_name=None) %}
select * from {{ model }} where not ({{ expression }})
{% endtest %}
