namespace Iris.Tests.Operations;

public sealed class PromQlTests
{
    [Theory]
    [InlineData("sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket{le=\"1\",http_route!~\".*/events\"}[5m]))", "http_server_request_duration_seconds_bucket")]
    [InlineData("iris:job_oldest_age_seconds:max > 600", "iris:job_oldest_age_seconds:max")]
    [InlineData("min by (instance, store) (iris_data_dir_free_bytes / iris_data_dir_size_bytes) < 0.10", "iris_data_dir_free_bytes,iris_data_dir_size_bytes")]
    [InlineData("sum(increase(iris_jobs_finished_total{status=\"failed\"}[15m] offset 1h)) > 5 or max(iris_webhook_outbox_pending) > 1000", "iris_jobs_finished_total,iris_webhook_outbox_pending")]
    [InlineData("histogram_quantile(0.95, sum(rate(iris_model_run_duration_seconds_bucket[5m])) by (le, model))", "iris_model_run_duration_seconds_bucket")]
    public void Metric_names_are_the_selectors_not_functions_labels_or_keywords(string expr, string names) =>
        Assert.Equal(names.Split(',').Order(), PromQl.MetricNames(expr).Order());
}
